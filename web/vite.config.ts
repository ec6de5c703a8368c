import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built by `npm run build:web` (vite build web) into web/dist; the API serves it at `/` (services/api/routes/web-routes.ts).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  // `vite web` during development: the API on its default port answers /v1.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
