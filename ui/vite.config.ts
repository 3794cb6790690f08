// The dashboard's build (`npm run build -w @wharf/ui` → ui/dist, served by the master at `/`)
// and dev server (`npm run dev -w @wharf/ui`: hot reload on :5173, the API proxied to a master
// on :8080, or WHARF_MASTER_URL).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const master = process.env.WHARF_MASTER_URL ?? 'http://localhost:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  server: {
    proxy: {
      '/api': master,
      '/ws': { target: master, ws: true },
      '/telemetry': master,
      '/metrics': master,
      '/health': master,
    },
  },
});
