import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The console is served by flowlog itself under /console/ (src/api/console/console-assets.ts),
// from dist-console/ at the package root; everything is bundled, nothing comes from a CDN.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  build: {
    outDir: fileURLToPath(new URL('../dist-console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  logLevel: 'warn',
})
