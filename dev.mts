import { martDataDir } from './test/pgwire/support.ts';
import { runSqlServer } from './src/pgwire/index.ts';
const dir = process.argv[2] ?? await martDataDir('dev');
process.env.SMARTCAR_SQL_PASSWORD = 'pw';
const s = await runSqlServer({ dataDir: dir, port: Number(process.argv[3] ?? 15432), banner: true });
console.log(dir, s.port);
