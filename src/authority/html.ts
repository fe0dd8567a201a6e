/** HTML of the authority's pages: escaping, and the frame every page shares. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0}main{max-width:440px;margin:48px auto;background:#fff;padding:32px;box-shadow:0 2px 6px rgba(0,0,0,.2)}` +
  `h1{font-size:1.4em;margin-top:0}button.user{display:block;width:100%;text-align:left;padding:10px;margin:6px 0;border:1px solid #ccc;background:#fff;cursor:pointer}` +
  `button.user:hover{background:#eef}small{color:#555}.error{color:#a00}form.find{display:flex;gap:6px;margin:0 0 12px}` +
  `form.find input{flex:1;padding:8px;border:1px solid #ccc}form.find button{padding:8px 14px}`;

/** Headers every page gets: no caching, no framing. */
export const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><main>${body}</main></body></html>`;
}
