import { MarketplaceProvider } from "@amp/agent-kit/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MarketplaceProvider apiBase={import.meta.env.VITE_API_BASE ?? ""}>
      <App />
    </MarketplaceProvider>
  </StrictMode>,
);
