/** Export of catalog tables and marts into PostgreSQL (the Sqoop role): COPY FROM STDIN, idempotent per partition. */
export { exportTable, exportSymptomDay, copyTextSelect, pgTypeOf, SYMPTOM_TARGET, SYMPTOM_DDL } from './run.ts';
export type { ExportOptions, ExportResult, ExportMode } from './run.ts';

/** Where workflows export to, when set: `SMARTCAR_EXPORT_URL=postgres://…`. */
export const exportUrl = (env: NodeJS.ProcessEnv = process.env): string | undefined => env.SMARTCAR_EXPORT_URL || undefined;
