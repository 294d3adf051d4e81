import type { RouteObject } from "react-router";
import { AgentEditPage } from "./AgentEditPage.tsx";
import { AgentsPage } from "./AgentsPage.tsx";
import { AuditPage } from "./AuditPage.tsx";
import { ConsoleLayout } from "./ConsoleLayout.tsx";
import { StripeEventsPage } from "./StripeEventsPage.tsx";
import { SubscriptionsPage } from "./SubscriptionsPage.tsx";
import { UsersPage } from "./UsersPage.tsx";

/** The operator console (platform admins), mounted under `/console`. */
export const consoleRoutes: RouteObject[] = [
  {
    element: <ConsoleLayout />,
    children: [
      { index: true, element: <AgentsPage /> },
      { path: "agents/:agentId", element: <AgentEditPage /> },
      { path: "users", element: <UsersPage /> },
      { path: "subscriptions", element: <SubscriptionsPage /> },
      { path: "stripe", element: <StripeEventsPage /> },
      { path: "audit", element: <AuditPage /> },
    ],
  },
];
