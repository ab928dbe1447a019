/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The gateway serves the built page itself (same origin as the API). In development the dev
// server and `vite preview` forward the gateway's routes to it, so the page still uses relative
// paths: DOUTOK_API=http://host:port overrides the default gateway address.
const gateway = process.env.DOUTOK_API || 'http://127.0.0.1:8080';
const proxy = Object.fromEntries(['/douyin', '/media', '/static'].map((p) => [p, { target: gateway }]));

export default defineConfig({
  base: '/',
  // Preact's automatic JSX runtime (no extra plugin needed).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
