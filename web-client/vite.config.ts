/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// `npm run dev` serves on :3000 and passes the API paths to the orchestrator (OCR_API_URL, default :8080).
const api = process.env.OCR_API_URL ?? "http://127.0.0.1:8080";
const apiPaths = ["/ocr", "/jobs", "/pdf", "/evaluations", "/backends", "/health", "/openapi.json"];
// Two pages: the client (index.html) and the API documentation (docs.html, served at /docs).
const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  plugins: [react()],
  server: {
    port: 3000,
    strictPort: true,
    proxy: Object.fromEntries(apiPaths.map((path) => [path, { target: api, changeOrigin: false }])),
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Swagger UI (the docs page only) is one large chunk; the client's own stay under the limit.
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { main: page("index.html"), docs: page("docs.html") } },
  },
  test: { environment: "jsdom", include: ["src/**/*.test.{ts,tsx}"] },
});
