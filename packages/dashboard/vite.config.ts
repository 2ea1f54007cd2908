/**
 * Vite config of the dashboard: static files in `dist/`, served by the Dimmer server at `/`.
 * `@dimmer/core` resolves through the npm workspace to its TypeScript source, which Vite compiles.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `vite dev` forwards API calls (a Dimmer server started with `npm start`). */
const DEV_API_TARGET = process.env.DIMMER_URL ?? 'http://127.0.0.1:4242';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': DEV_API_TARGET,
      '/sdk': DEV_API_TARGET,
    },
  },
});
