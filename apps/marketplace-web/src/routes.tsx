import type { RouteObject } from "react-router";
import { Layout } from "./app/Layout.tsx";
import { consoleRoutes } from "./console/routes.tsx";
import { AccountPage } from "./pages/AccountPage.tsx";
import { AgentPage } from "./pages/AgentPage.tsx";
import { CatalogPage } from "./pages/CatalogPage.tsx";
import { NotFoundPage } from "./pages/NotFoundPage.tsx";

/**
 * The app's routes. The marketplace serves index.html for browser navigations
 * to exactly these paths (APP_ROUTES in packages/marketplace/src/web/), so a new
 * top-level route is added there too.
 *
 * The operator console (src/console/**) mounts its own route list under
 * `/console` here.
 */
export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { index: true, element: <CatalogPage /> },
      { path: "agent/:slug", element: <AgentPage /> },
      // Agents link here as their upgradeUrl (CONTRACT.md §8): the same agent page.
      { path: "pricing/:slug", element: <AgentPage /> },
      { path: "account", element: <AccountPage /> },
      { path: "console", children: consoleRoutes },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];
