import { Alert, Layout } from "./layout.tsx";

/** The application a sign-in continues to: an agent of the catalog, or a bare OAuth client. */
export interface RequestingApp {
  name: string;
  iconUrl: string | null;
}

/** Names and shows the agent the user is signing in to, so nobody types a password for an unknown app. */
function AppBanner(p: { app?: RequestingApp | null; verb: string }) {
  if (!p.app) return null;
  return (
    <div class="app-banner" data-testid="requesting-app">
      {p.app.iconUrl ? (
        <img class="app-icon" src={p.app.iconUrl} alt="" />
      ) : (
        <span class="app-icon" aria-hidden="true">
          {p.app.name.trim().charAt(0).toUpperCase()}
        </span>
      )}
      <p>
        {p.verb} to continue to <strong>{p.app.name}</strong>
      </p>
    </div>
  );
}

/** The query that carries an authorization request (or a page to return to) between sign-in and sign-up. */
function carryOn(p: { oauthQuery: string; next?: string }) {
  if (p.oauthQuery) return `?${p.oauthQuery}`;
  return p.next && p.next !== "/" ? `?next=${encodeURIComponent(p.next)}` : "";
}

export function SignInPage(p: {
  csrf: string;
  oauthQuery: string;
  next?: string;
  email?: string;
  error?: string;
  app?: RequestingApp | null;
}) {
  const suffix = carryOn(p);
  return (
    <Layout title="Sign in">
      <AppBanner app={p.app} verb="Sign in" />
      <h1>Sign in</h1>
      <Alert message={p.error} />
      <form method="post" action={`/sign-in${suffix}`}>
        <input type="hidden" name="csrf" value={p.csrf} />
        <input type="hidden" name="oauth_query" value={p.oauthQuery} />
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="email"
          required
          autofocus
          value={p.email ?? ""}
        />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        New here? <a href={`/sign-up${suffix}`}>Create an account</a>
      </p>
    </Layout>
  );
}

export function SignUpPage(p: {
  csrf: string;
  oauthQuery: string;
  next?: string;
  email?: string;
  name?: string;
  error?: string;
  app?: RequestingApp | null;
}) {
  const suffix = carryOn(p);
  return (
    <Layout title="Create an account">
      <AppBanner app={p.app} verb="Create an account" />
      <h1>Create an account</h1>
      <Alert message={p.error} />
      <form method="post" action={`/sign-up${suffix}`}>
        <input type="hidden" name="csrf" value={p.csrf} />
        <input type="hidden" name="oauth_query" value={p.oauthQuery} />
        <label for="name">Name</label>
        <input
          id="name"
          name="name"
          autocomplete="name"
          required
          autofocus
          maxlength={100}
          value={p.name ?? ""}
        />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" required value={p.email ?? ""} />
        <label for="password">Password (at least 8 characters)</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="new-password"
          minlength={8}
          required
        />
        <button type="submit">Create account</button>
      </form>
      <p class="muted">
        Already have an account? <a href={`/sign-in${suffix}`}>Sign in</a>
      </p>
    </Layout>
  );
}

export function ConsentPage(p: { csrf: string; oauthQuery: string; app: RequestingApp; scopes: string[] }) {
  return (
    <Layout title="Allow access">
      <AppBanner app={p.app} verb="Allow access" />
      <h1>Allow {p.app.name} to access your account?</h1>
      <p>It will be able to:</p>
      <ul class="scopes">
        {p.scopes.map((s) => (
          <li>{SCOPE_TEXT[s] ?? s}</li>
        ))}
      </ul>
      <form method="post" action="/consent">
        <input type="hidden" name="csrf" value={p.csrf} />
        <input type="hidden" name="oauth_query" value={p.oauthQuery} />
        <button type="submit" name="accept" value="true">
          Allow
        </button>
        <button type="submit" name="accept" value="false" class="secondary">
          Deny
        </button>
      </form>
    </Layout>
  );
}

const SCOPE_TEXT: Record<string, string> = {
  openid: "Confirm who you are",
  profile: "See your name and picture",
  email: "See your email address",
  "marketplace:role": "See your marketplace role",
  "marketplace:installs": "See which agents you have installed",
  "marketplace:agentTiers": "See your subscription tiers",
  offline_access: "Stay signed in when you are away",
};

export function SignedOutPage() {
  return (
    <Layout title="Signed out">
      <h1>You are signed out</h1>
      <p>
        <a href="/sign-in">Sign in again</a> or <a href="/">browse the catalog</a>.
      </p>
    </Layout>
  );
}

export function ErrorPage(p: { title: string; message: string }) {
  return (
    <Layout title={p.title}>
      <h1>{p.title}</h1>
      <p class="alert" role="alert">
        {p.message}
      </p>
      <p>
        <a href="/">Back to the marketplace</a>
      </p>
    </Layout>
  );
}
