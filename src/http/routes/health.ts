import type { App, HttpDeps } from "../types.js";

/** `GET /healthz` (the process is up) and `GET /readyz` (database and storage answer). */
export function registerHealth(app: App, deps: HttpDeps): void {
  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async () => {
    await deps.ready();
    return { status: "ready" };
  });
}
