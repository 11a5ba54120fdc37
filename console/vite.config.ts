// Vite builds the console into ../dist/console, which the server's console listener serves
// (src/console/). Hashed asset names: the server gives them long cache lifetimes.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // Chart and component code in their own chunks: the login page does not wait for uPlot.
    chunkSizeWarningLimit: 900,
    sourcemap: false,
  },
});
