import type { Child } from "hono/jsx";

const STYLE = `
a{color:var(--brand)}:root{color-scheme:light;--ink:#1b1f24;--muted:#5b6470;--line:#d6dbe1;--brand:#3046c5;--bad:#b42318;--bg:#f6f7f9}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid var(--line);border-radius:12px}
h1{font-size:1.5rem;margin:0 0 1rem}p{margin:.5rem 0 1rem}.muted{color:var(--muted)}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;padding:.6rem .7rem;font:inherit;border:1px solid var(--line);border-radius:8px}
input:focus,button:focus,a:focus{outline:3px solid #9fb1ff;outline-offset:2px}
button{margin-top:1.25rem;width:100%;padding:.7rem;font:inherit;font-weight:600;color:#fff;background:var(--brand);border:0;border-radius:8px;cursor:pointer}
button.secondary{background:#fff;color:var(--ink);border:1px solid var(--line)}
.alert{padding:.75rem;border-radius:8px;background:#fef3f2;color:var(--bad);border:1px solid #fecdca}
ul.scopes{padding-left:1.25rem}.brand{font-weight:700;color:var(--brand);margin-bottom:1rem}
main.wide{max-width:60rem}.tiers{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr))}
.tier{border:1px solid var(--line);border-radius:10px;padding:1rem;margin:1rem 0}.tier.recommended{border:2px solid var(--brand)}
.badge{display:inline-block;background:var(--brand);color:#fff;border-radius:999px;padding:0 .6rem;font-size:.85rem;margin:0}
.price{font-size:1.4rem;font-weight:700}.current{font-weight:600;color:var(--brand)}
a.button{display:block;text-align:center;margin-top:1.25rem;padding:.7rem;border-radius:8px;background:var(--brand);color:#fff;text-decoration:none;font-weight:600}
pre{overflow:auto;background:var(--bg);padding:.75rem;border-radius:8px;font-size:.8rem}summary{cursor:pointer}
.meter label{font-weight:400;margin:.5rem 0 .25rem}progress{width:100%;height:.8rem}
.topbar{background:#fff;border-bottom:1px solid var(--line)}.topbar div{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
.logo{font-weight:700;color:var(--ink);text-decoration:none}.logo span{color:var(--brand)}.topbar nav a{color:var(--muted);font-weight:600;text-decoration:none;margin-right:.75rem}
.app-banner{display:flex;gap:.75rem;align-items:center;padding:.75rem;border-radius:10px;background:#eef1ff;margin-bottom:1rem}.app-banner p{margin:0}
.app-icon{width:2.75rem;height:2.75rem;flex:none;border-radius:10px;object-fit:cover;display:grid;place-items:center;background:#fff;color:var(--brand);font-weight:700;font-size:1.2rem}
footer{max-width:26rem;margin:0 auto 2rem;padding:0 1rem;font-size:.9rem;color:var(--muted)}footer a{margin-right:1rem}
@media (max-width:480px){main{margin:0;border-radius:0;border-width:0 0 1px}}
`;

export function Layout(props: { title: string; children: Child; wide?: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Agent Marketplace`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <header class="topbar">
          <div>
            <a class="logo" href="/">
              <span aria-hidden="true">◆</span> Agent Marketplace
            </a>
            <nav aria-label="Main">
              <a href="/">Catalog</a>
              <a href="/account">Account</a>
            </nav>
          </div>
        </header>
        <main class={props.wide ? "wide" : undefined}>{props.children}</main>
        <footer>
          <a href="/">Catalog</a>
          <a href="/account">Account</a>
          <a href="/docs">API reference</a>
        </footer>
      </body>
    </html>
  );
}

export function Alert(props: { message: string | undefined }) {
  return props.message ? (
    <p class="alert" role="alert">
      {props.message}
    </p>
  ) : null;
}
