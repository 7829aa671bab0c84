// The console's UI: built into web/dist (served by `smartcar up` and `smartcar console`); `npm run dev:web`
// serves it with hot reload, proxying /api to a running console (SMARTCAR_CONSOLE_URL, default :8080).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1500, reportCompressedSize: true },
  server: { proxy: { '/api': process.env.SMARTCAR_CONSOLE_URL ?? 'http://127.0.0.1:8080' } },
});
