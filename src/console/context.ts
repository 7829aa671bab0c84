/**
 * What every console route reads: the data directory's paths, the stores (opened once, lazily, on the
 * backends the root config names) and, under `smartcar up`, the supervisor's view of its components.
 * Routes import other roles only through their faces; this file is where those faces are opened.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, type DataPaths } from '../core/index.ts';
import type { TableStore } from '../table/index.ts';
import type { HotStore } from '../hot/index.ts';
import type { Catalog } from '../sql/index.ts';

export interface ComponentInfo {
  phase: string;
  pid?: number;
  restarts: number;
  upSeconds?: number;
  error?: string;
  lastExit?: { code: number | null; signal: string | null; at: number };
}

/** What the platform hands the console (absent for a stand-alone `smartcar console`). */
export interface PlatformView {
  components(): Promise<Record<string, ComponentInfo>>;
  /** Prometheus text of every component, merged. */
  metrics(): Promise<string>;
  /** Restarts one component (the supervisor starts it again). */
  restart(name: string): Promise<void>;
  /** Bootstrap servers of the bus, once known. */
  brokers(): string[] | undefined;
}

export interface ConsoleOptions {
  dataDir: string;
  platform?: PlatformView;
  /** Stand-alone: bootstrap servers of the bus (default: the config's). */
  brokers?: string[];
  redis?: string;
  postgres?: string;
  /** Rows a notebook paragraph may return (default 1,000,000). */
  rowLimit?: number;
  /** Seconds a paragraph may run (default 120). */
  timeLimitSeconds?: number;
}

export class ConsoleContext {
  readonly paths: DataPaths;
  readonly notebooksDir: string;
  private table?: Promise<TableStore>;
  private hot?: Promise<HotStore>;
  private catalog?: Promise<Catalog>;

  constructor(readonly o: ConsoleOptions) {
    this.paths = dataPaths(o.dataDir);
    this.notebooksDir = path.join(this.paths.root, 'notebooks');
  }

  get root(): string {
    return this.paths.root;
  }

  tableStore(): Promise<TableStore> {
    this.table ??= (async () => {
      const { openTableStore } = await import('../table/index.ts');
      if (this.o.postgres) return openTableStore({ kind: 'postgres', url: this.o.postgres, schema: process.env.SMARTCAR_POSTGRES_SCHEMA });
      fs.mkdirSync(this.paths.table, { recursive: true });
      return openTableStore({ kind: 'lmdb', path: this.paths.table });
    })();
    return this.table;
  }

  hotStore(): Promise<HotStore> {
    this.hot ??= (async () => {
      const { openHotStore } = await import('../hot/index.ts');
      return openHotStore(this.o.redis ? { kind: 'redis', url: this.o.redis } : { kind: 'embedded', path: this.paths.hot });
    })();
    return this.hot;
  }

  /** The read-only SQL catalog: the engine cannot touch a file outside the lake. */
  sqlCatalog(): Promise<Catalog> {
    this.catalog ??= (async () => {
      const { openCatalog } = await import('../sql/index.ts');
      fs.mkdirSync(this.paths.lake, { recursive: true });
      return openCatalog({ dataDir: this.paths.root, table: await this.tableStore(), sandbox: true });
    })();
    return this.catalog;
  }

  brokers(): string[] | undefined {
    return this.o.platform?.brokers() ?? this.o.brokers;
  }

  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    if (this.catalog) closing.push(this.catalog.then((c) => c.close()));
    if (this.table) closing.push(this.table.then((t) => t.close()));
    if (this.hot) closing.push(this.hot.then((h) => h.close()));
    await Promise.allSettled(closing);
  }
}
