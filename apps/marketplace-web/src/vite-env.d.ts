/// <reference types="vite/client" />
interface ImportMetaEnv {
  /** The marketplace's URL when this app is served from another origin; empty = same origin. */
  readonly VITE_MARKETPLACE_URL?: string;
}
