/**
 * The API documentation page (/docs): Swagger UI, bundled here at build time (no CDN), rendering the
 * orchestrator's own description at /openapi.json. "Try it out" calls this origin, as the CSP allows.
 */
import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import "swagger-ui-dist/swagger-ui.css";

SwaggerUI({
  url: "/openapi.json",
  dom_id: "#docs",
  deepLinking: true,
  // No call to the public validator service: the page talks to this origin only.
  validatorUrl: null,
});
