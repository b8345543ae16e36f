/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves on :3000 and passes the API paths to the orchestrator (OCR_API_URL, default :8080).
const api = process.env.OCR_API_URL ?? "http://127.0.0.1:8080";
const apiPaths = ["/ocr", "/jobs", "/backends", "/health"];

export default defineConfig({
  plugins: [react()],
  server: {
    port: 3000,
    strictPort: true,
    proxy: Object.fromEntries(apiPaths.map((path) => [path, { target: api, changeOrigin: false }])),
  },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 700 },
  test: { environment: "jsdom", include: ["src/**/*.test.{ts,tsx}"] },
});
