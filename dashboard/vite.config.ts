import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dev server proxies the API to a running `npm start` (port 3000), so the page talks to one origin.
const api = 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 400 },
  server: {
    proxy: { '/api': api, '/users': api, '/tracks': api, '/genres': api },
  },
});
