/**
 * The page shell and its stylesheet. The shell holds no data: app.js fills it from `/__web/api/*`,
 * so the only values interpolated here are the title and the API base URL, both HTML-escaped.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pageHtml(p: { title: string; baseUrl: string; jobs: boolean }): string {
  const title = escapeHtml(p.title);
  const base = escapeHtml(p.baseUrl);
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/__web/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/__web/app.css">
<script src="/__web/app.js" defer></script>
</head>
<body data-jobs="${p.jobs ? '1' : '0'}">
<div class="app">
  <aside class="sidebar">
    <div class="brand"><span class="logo" aria-hidden="true">P</span><div><div class="brand-title">${title}</div><div class="brand-sub">сообщения не уходят в Пачку</div></div></div>
    <div class="section-title">Чаты</div>
    <nav id="chats" class="chat-list" aria-label="Чаты"></nav>
    <div class="sidebar-foot"><div class="foot-label">API</div><code id="base-url">${base}</code></div>
  </aside>
  <main class="main">
    <header class="topbar">
      <div class="chat-head"><div id="chat-title" class="chat-title">Загрузка…</div><div id="chat-sub" class="chat-sub"></div></div>
      <div class="tabs" role="tablist">
        <button type="button" class="tab active" data-view="messages" role="tab">Сообщения</button>
        <button type="button" class="tab" data-view="jobs" role="tab"${p.jobs ? '' : ' hidden'}>Задания</button>
      </div>
      <span id="live" class="live off" title="Обновления через SSE">нет связи</span>
    </header>
    <section id="view-messages" class="view">
      <div id="messages" class="messages" aria-live="polite"></div>
      <form id="composer" class="composer" autocomplete="off">
        <input id="composer-text" class="composer-text" type="text" maxlength="4000" placeholder="Написать в чат как сотрудник (ссылка на отчёт получит превью)" aria-label="Сообщение">
        <button type="submit" class="composer-send">Отправить</button>
      </form>
    </section>
    <section id="view-jobs" class="view jobs-view" hidden>
      <div id="jobs" class="jobs"></div>
    </section>
  </main>
  <aside class="panel" id="stats-panel" aria-label="Запросы клиента">
    <div class="panel-title">Что делал клиент</div>
    <div id="stats" class="stats"></div>
  </aside>
</div>
<div id="toast" class="toast" hidden></div>
</body>
</html>
`;
}

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#6b4eff"/><text x="16" y="22" font-family="Arial,sans-serif" font-size="17" font-weight="700" fill="#fff" text-anchor="middle">P</text></svg>`;

export const PAGE_CSS = `
:root {
  --accent: #6b4eff; --accent-soft: #efebff; --text: #1d2129; --muted: #7a808c; --line: #e6e8ec;
  --bg: #ffffff; --side: #20232b; --side-text: #c9ccd3; --side-active: #343845; --code-bg: #f4f5f7;
  --ok: #1f9d55; --warn: #d97706; --bad: #dc2626; --link: #2f6fdb;
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--text); background: var(--bg); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
[hidden] { display: none !important; }
.app { display: grid; grid-template-columns: 240px minmax(0, 1fr) 300px; height: 100vh; }
@media (max-width: 1100px) { .app { grid-template-columns: 220px minmax(0, 1fr); } .panel { display: none; } }

/* sidebar */
.sidebar { background: var(--side); color: var(--side-text); display: flex; flex-direction: column; min-height: 0; }
.brand { display: flex; gap: 10px; align-items: center; padding: 16px 14px 12px; }
.logo { width: 34px; height: 34px; border-radius: 9px; background: var(--accent); color: #fff; font-weight: 700; display: grid; place-items: center; font-size: 17px; }
.brand-title { color: #fff; font-weight: 600; }
.brand-sub { font-size: 11.5px; color: #8c919c; }
.section-title { padding: 10px 16px 4px; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: #8c919c; }
.chat-list { flex: 1; overflow-y: auto; padding: 0 8px; }
.chat-item { display: flex; align-items: center; gap: 8px; width: 100%; border: 0; background: none; color: inherit; text-align: left; padding: 7px 8px; border-radius: 7px; cursor: pointer; font: inherit; }
.chat-item:hover { background: #2b2f39; }
.chat-item.active { background: var(--side-active); color: #fff; }
.chat-icon { width: 22px; text-align: center; color: #8c919c; flex: none; }
.chat-name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chat-count { font-size: 12px; color: #8c919c; min-width: 20px; text-align: right; }
.chat-item.unread .chat-name { color: #fff; font-weight: 600; }
.chat-item.unread .chat-count { background: var(--accent); color: #fff; border-radius: 9px; padding: 0 6px; }
.sidebar-foot { padding: 10px 14px 14px; border-top: 1px solid #2e323c; font-size: 11.5px; }
.foot-label { color: #8c919c; margin-bottom: 2px; }
.sidebar-foot code { color: #d7d9de; word-break: break-all; }

/* main */
.main { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
.topbar { display: flex; align-items: center; gap: 16px; padding: 10px 20px; border-bottom: 1px solid var(--line); min-height: 58px; }
.chat-head { flex: 1; min-width: 0; }
.chat-title { font-weight: 600; font-size: 16px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.chat-sub { color: var(--muted); font-size: 12px; }
.tabs { display: flex; gap: 4px; background: #f1f2f4; padding: 3px; border-radius: 8px; }
.tab { border: 0; background: none; font: inherit; padding: 4px 12px; border-radius: 6px; cursor: pointer; color: var(--muted); }
.tab.active { background: #fff; color: var(--text); box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.live { font-size: 12px; color: var(--muted); white-space: nowrap; }
.live::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #b8bcc5; margin-right: 6px; vertical-align: 1px; }
.live.on::before { background: var(--ok); }
.view { flex: 1; min-height: 0; overflow-y: auto; }
.messages { padding: 12px 20px 28px; }
.empty { color: var(--muted); padding: 40px 10px; text-align: center; }
.empty pre { text-align: left; display: inline-block; background: var(--code-bg); padding: 10px 12px; border-radius: 8px; color: var(--text); }

/* messages */
.msg { display: flex; gap: 12px; padding: 8px 10px; border-radius: 10px; }
.msg:hover { background: #fafafb; }
.msg.fresh { animation: fresh 2.2s ease-out; }
.msg.linked { box-shadow: inset 3px 0 0 var(--accent); }
@keyframes fresh { from { background: var(--accent-soft); } to { background: transparent; } }
.avatar { width: 38px; height: 38px; border-radius: 50%; flex: none; display: grid; place-items: center; color: #fff; font-weight: 600; font-size: 14px; overflow: hidden; position: relative; }
.avatar img { width: 100%; height: 100%; object-fit: cover; position: absolute; inset: 0; }
.avatar.sm { width: 28px; height: 28px; font-size: 11px; }
.c0 { background: #6b4eff; } .c1 { background: #0ea5e9; } .c2 { background: #10b981; } .c3 { background: #f59e0b; } .c4 { background: #ef4444; } .c5 { background: #8b5cf6; } .c6 { background: #14b8a6; } .c7 { background: #64748b; }
.msg-body { flex: 1; min-width: 0; }
.meta { display: flex; align-items: baseline; gap: 8px; flex-wrap: wrap; }
.author { font-weight: 600; }
.badge { font-size: 10.5px; text-transform: uppercase; letter-spacing: .04em; background: #eef0f3; color: var(--muted); border-radius: 4px; padding: 0 5px; }
.time, .edited, .size, .reply-to { color: var(--muted); font-size: 12px; }
.size { margin-left: auto; font-variant-numeric: tabular-nums; }
.size.near-limit { color: var(--warn); font-weight: 600; }
.size.over-limit { color: var(--bad); font-weight: 600; }
.content { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: 2px; }
.content a { color: var(--link); text-decoration: none; }
.content a:hover { text-decoration: underline; }
.inline-code { background: var(--code-bg); border: 1px solid #e3e5e9; border-radius: 4px; padding: 0 4px; font-size: 12.5px; color: #c0265a; }
.code-block { position: relative; background: var(--code-bg); border: 1px solid #e3e5e9; border-radius: 8px; margin: 6px 0; padding: 10px 12px; overflow-x: auto; white-space: pre; font-size: 12.5px; line-height: 1.5; }
.code-lang { position: absolute; top: 4px; right: 8px; font-size: 10.5px; color: var(--muted); font-family: inherit; }
.code-lang.warn { color: var(--warn); }
.mention { color: var(--accent); background: var(--accent-soft); border-radius: 4px; padding: 0 2px; }
.previews { display: flex; flex-direction: column; gap: 6px; margin-top: 8px; max-width: 560px; }
.preview { border-left: 3px solid var(--accent); background: #f6f7f9; border-radius: 0 7px 7px 0; padding: 6px 10px; }
.preview-title { font-weight: 600; color: var(--accent); text-decoration: none; display: block; }
.preview-text { white-space: pre-line; font-size: 13px; color: var(--text); margin-top: 2px; }
.preview-image { display: block; max-width: 100%; max-height: 240px; margin-top: 6px; border-radius: 5px; }
.composer { position: sticky; bottom: 0; display: flex; gap: 8px; padding: 10px 20px; background: var(--bg, #fff); border-top: 1px solid #e4e6ea; }
.composer-text { flex: 1; font: inherit; padding: 7px 10px; border: 1px solid #d8dbe1; border-radius: 7px; }
.composer-send { font: inherit; padding: 7px 14px; border: 0; border-radius: 7px; background: var(--accent); color: #fff; cursor: pointer; }
.buttons { display: flex; flex-direction: column; gap: 6px; margin-top: 8px; max-width: 560px; }
.button-row { display: flex; gap: 6px; }
.msg-button { flex: 1 1 0; min-width: 0; text-align: center; border: 1px solid #d8dbe1; background: #fff; color: var(--text); border-radius: 7px; padding: 6px 10px; font: inherit; font-size: 13px; cursor: pointer; text-decoration: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.msg-button:hover { border-color: var(--accent); color: var(--accent); }
.msg-button.url::after { content: " ↗"; color: var(--muted); }
.files { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.files { flex-direction: column; align-items: flex-start; }
.file { border: 1px solid var(--line); border-radius: 7px; padding: 4px 8px; font-size: 12.5px; color: var(--text); text-decoration: none; }
a.file:hover { border-color: var(--accent); color: var(--accent); }
.file-image { display: block; max-width: min(560px, 100%); max-height: 420px; border: 1px solid var(--line); border-radius: 8px; }
.md-file { border: 1px solid var(--line); border-radius: 8px; max-width: 640px; overflow: auto; background: #fff; }
.md-file-name { font-size: 12px; color: var(--muted); padding: 6px 10px; border-bottom: 1px solid var(--line); }
.md-file-body { padding: 6px 12px 10px; font-size: 13.5px; }
.md-card h2, .md-card h3, .md-card h4 { margin: 6px 0; font-size: 15px; }
.md-table { border-collapse: collapse; margin: 6px 0; }
.md-table th, .md-table td { border: 1px solid var(--line); padding: 4px 8px; }
.md-table th { background: #f6f7f9; }
.md-code { background: #f6f7f9; padding: 6px 8px; border-radius: 6px; }
.md-mermaid { margin: 6px 0; } .md-mermaid figcaption { font-size: 12px; color: var(--muted); margin-bottom: 3px; }
.children { margin-top: 6px; border-left: 2px solid var(--line); padding-left: 10px; }
.children-title { font-size: 12px; color: var(--muted); margin: 2px 0 2px 2px; }
.children.thread { border-left-color: var(--accent); }
.children .msg { padding: 5px 6px; }

/* jobs */
.jobs { padding: 16px 20px; }
.jobs table { width: 100%; border-collapse: collapse; }
.jobs th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 500; padding: 6px 8px; border-bottom: 1px solid var(--line); }
.jobs td { padding: 10px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.job-name { font-weight: 600; }
.job-desc, .job-sub { color: var(--muted); font-size: 12.5px; }
.job-next { font-size: 12.5px; font-variant-numeric: tabular-nums; }
.disabled-badge { color: var(--warn); font-size: 12px; }
.run-now { border: 0; background: var(--accent); color: #fff; border-radius: 7px; padding: 6px 12px; font: inherit; cursor: pointer; white-space: nowrap; }
.run-now:disabled { opacity: .6; cursor: wait; }
.job-result { margin-top: 6px; font-size: 12.5px; }
.job-result.ok { color: var(--ok); } .job-result.fail { color: var(--bad); }
.job-result a { color: var(--link); margin-left: 4px; }

/* stats panel */
.panel { border-left: 1px solid var(--line); background: #fbfbfc; display: flex; flex-direction: column; min-height: 0; }
.panel-title { font-weight: 600; padding: 18px 16px 8px; }
.stats { overflow-y: auto; padding: 0 16px 16px; font-size: 12.5px; }
.tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin-bottom: 12px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; }
.tile-value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile-label { color: var(--muted); font-size: 11px; }
.tile.alert .tile-value { color: var(--bad); }
.stats h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 500; margin: 12px 0 4px; }
.ep-row { display: flex; justify-content: space-between; gap: 6px; padding: 3px 0; border-bottom: 1px dashed #eceef1; }
.ep-name { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chips { display: flex; gap: 3px; flex: none; }
.chip { border-radius: 4px; padding: 0 5px; font-size: 11px; font-variant-numeric: tabular-nums; background: #eef0f3; }
.s2 { background: #dcfce7; color: #166534; } .s4 { background: #fef3c7; color: #92400e; } .s429, .s5 { background: #fee2e2; color: #991b1b; } .sreset { background: #e5e7eb; color: #374151; }
.req { display: grid; grid-template-columns: 54px 1fr auto; gap: 6px; padding: 2px 0; font-size: 11.5px; }
.req-time { color: var(--muted); font-variant-numeric: tabular-nums; }
.req-path { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: ui-monospace, Menlo, Consolas, monospace; }
.fault-tag { color: var(--bad); font-size: 11px; }
.muted { color: var(--muted); }
.toast { position: fixed; bottom: 18px; left: 50%; transform: translateX(-50%); background: #20232b; color: #fff; padding: 8px 14px; border-radius: 8px; font-size: 13px; max-width: 80vw; }
`;
