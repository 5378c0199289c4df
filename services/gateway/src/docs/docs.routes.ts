import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import type { ApiDocument } from "./api-document.ts";

export const isDocsPath = (path: string) =>
  path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");

/**
 * `/openapi.json`, the merged document of the upstreams, and `/docs`, a page to read and try it. The page
 * calls the API on this origin, so "Try it out" goes through the gateway like any client.
 */
export function registerDocsRoutes(app: FastifyInstance, document: ApiDocument): void {
  app.get("/openapi.json", async (_request, reply) => {
    reply.header("cache-control", "no-cache");
    return document.current();
  });
  void app.register(mergedDocumentPlugin(document));
  // Loaded with the other plugins when the app starts.
  void app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: { url: "/openapi.json", withCredentials: true },
  });
}

/**
 * Stands in for `@fastify/swagger`, which the docs page requires by name and reads `swagger()` from: that plugin
 * would describe this app's own routes (a catch-all proxy), where the page must show the merged document.
 */
function mergedDocumentPlugin(document: ApiDocument) {
  const plugin = (instance: FastifyInstance, _options: unknown, done: () => void) => {
    instance.decorate(
      "swagger",
      () => document.latest() as unknown as ReturnType<FastifyInstance["swagger"]>,
    );
    done();
  };
  // What `fastify-plugin` sets: the decorator is visible outside the plugin, under the name the page requires.
  return Object.assign(plugin, {
    [Symbol.for("skip-override")]: true,
    [Symbol.for("plugin-meta")]: { name: "@fastify/swagger" },
  });
}
