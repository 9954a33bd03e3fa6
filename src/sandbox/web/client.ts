/**
 * The page's script, shipped as a string so it is served from src/ and dist/ alike.
 *
 * Plain browser JavaScript: no template literals and no backticks inside (the string is a
 * String.raw template; a backtick is written `\x60`). Message content is untrusted, so every node
 * is built with createElement/textContent — nothing from the API ever goes through innerHTML —
 * and only http(s)/mailto links become anchors.
 *
 * The markup follows what Pachca renders (see shared/reference/pachca-api-notes.md): bold, italic,
 * strikethrough, links, inline code and fenced code blocks are rendered; headings, lists, quotes
 * and tables stay raw text, exactly as a reader would see them.
 */
export const CLIENT_JS = String.raw`(function () {
  'use strict';
  var BT = '\x60';
  var PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_{|}~' + BT;
  var S = {
    chats: [], users: new Map(), byNick: new Map(), chatId: null, follow: true, counts: null,
    unread: new Set(), known: null, focus: null, view: 'messages', jobsEnabled: false, maxBytes: 40000,
    baseUrl: '', loading: false, again: false
  };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---- links ----
  function safeHref(raw) {
    var u = String(raw).trim();
    if (!/^(https?:\/\/|mailto:)/i.test(u)) return null;
    try {
      var p = new URL(u);
      if (p.protocol === 'http:' || p.protocol === 'https:' || p.protocol === 'mailto:') return p.href;
    } catch (e) { /* not a URL: stays text */ }
    return null;
  }
  function anchor(href, cls) {
    var a = el('a', cls);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  // ---- markup ----
  function renderContent(text) {
    var root = el('div', 'content');
    var lines = String(text).replace(/\r\n?/g, '\n').split('\n');
    var buf = [];
    var flush = function () {
      if (!buf.length) return;
      var seg = el('span', 'seg');
      inline(seg, buf.join('\n'), false);
      root.appendChild(seg);
      buf = [];
    };
    for (var i = 0; i < lines.length; i++) {
      var open = /^\s*(\x60{3,})\s*([^\x60\s]*)\s*$/.exec(lines[i]);
      if (open) {
        var end = -1;
        for (var j = i + 1; j < lines.length; j++) {
          var close = /^\s*(\x60{3,})\s*$/.exec(lines[j]);
          if (close && close[1].length >= open[1].length) { end = j; break; }
        }
        // An unclosed fence is shown raw: the author should see it is broken.
        if (end !== -1) {
          flush();
          root.appendChild(codeBlock(open[2], lines.slice(i + 1, end).join('\n')));
          i = end;
          continue;
        }
      }
      buf.push(lines[i]);
    }
    flush();
    return root;
  }

  function codeBlock(lang, code) {
    var pre = el('pre', 'code-block');
    if (lang) pre.appendChild(el('span', 'code-lang', lang));
    else if (/[\u0400-\u04FF]/.test(code)) {
      var w = el('span', 'code-lang warn', '1C?');
      w.title = 'Без языка Пачка может принять кириллицу за 1C: напишите ' + BT + BT + BT + 'text';
      pre.appendChild(w);
    }
    pre.appendChild(el('code', null, code));
    return pre;
  }

  function runLength(s, i, ch) { var n = 0; while (s[i + n] === ch) n++; return n; }
  function isSpace(c) { return c === undefined || /\s/.test(c); }
  function isWord(c) { return c !== undefined && /[\p{L}\p{N}]/u.test(c); }

  /** Index of the closing delimiter at or after from, skipping escapes; -1 when none. */
  function findClose(s, from, delim, single) {
    for (var k = from; k < s.length; k++) {
      if (s[k] === '\\') { k++; continue; }
      if (s[k] === BT) { var n = runLength(s, k, BT); var c = s.indexOf(BT.repeat(n), k + n); if (c !== -1) { k = c + n - 1; continue; } }
      if (s.startsWith(delim, k)) {
        if (single && (s[k + 1] === delim || s[k - 1] === delim)) { k += runLength(s, k, delim) - 1; continue; }
        return k;
      }
    }
    return -1;
  }

  function parseLink(s, i) {
    var close = -1;
    for (var k = i + 1; k < s.length; k++) {
      if (s[k] === '\\') { k++; continue; }
      if (s[k] === '\n') return null;
      if (s[k] === ']') { close = k; break; }
    }
    if (close === -1 || s[close + 1] !== '(') return null;
    var depth = 0;
    for (var m = close + 2; m < s.length; m++) {
      var c = s[m];
      if (c === '\n') return null;
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) return { text: s.slice(i + 1, close), url: s.slice(close + 2, m), end: m + 1 };
        depth--;
      }
    }
    return null;
  }

  function wrap(parent, tag, cls, inner, noLinks) {
    var e = el(tag, cls);
    inline(e, inner, noLinks);
    parent.appendChild(e);
  }

  function inline(parent, s, noLinks) {
    var buf = '';
    var i = 0;
    var text = function () { if (buf) { parent.appendChild(document.createTextNode(buf)); buf = ''; } };
    while (i < s.length) {
      var c = s[i];
      var rest;
      if (c === '\\' && i + 1 < s.length && PUNCT.indexOf(s[i + 1]) !== -1) { buf += s[i + 1]; i += 2; continue; }
      if (c === BT) {
        var n = runLength(s, i, BT);
        var closeAt = s.indexOf(BT.repeat(n), i + n);
        while (closeAt !== -1 && s[closeAt + n] === BT) closeAt = s.indexOf(BT.repeat(n), closeAt + runLength(s, closeAt, BT));
        if (closeAt !== -1 && closeAt > i + n) {
          text();
          parent.appendChild(el('code', 'inline-code', s.slice(i + n, closeAt)));
          i = closeAt + n;
          continue;
        }
        buf += s.slice(i, i + n);
        i += n;
        continue;
      }
      if (c === '[' && !noLinks) {
        var lk = parseLink(s, i);
        if (lk) {
          var href = safeHref(lk.url);
          if (href) {
            text();
            var a = anchor(href, 'link');
            inline(a, lk.text, true);
            parent.appendChild(a);
          } else {
            buf += s.slice(i, lk.end); // javascript:, data:, relative… stay visible as typed
          }
          i = lk.end;
          continue;
        }
      }
      if (c === '<') {
        rest = s.slice(i, i + 300);
        var mid = /^<@(\d+)>/.exec(rest);
        if (mid) {
          var u = S.users.get(Number(mid[1]));
          if (u) {
            text();
            var sp = el('span', 'mention', '@' + u.nickname);
            sp.title = u.name;
            parent.appendChild(sp);
          } else buf += mid[0];
          i += mid[0].length;
          continue;
        }
        var al = noLinks ? null : /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(rest);
        if (al && safeHref(al[1])) {
          text();
          var aa = anchor(safeHref(al[1]), 'link');
          aa.textContent = al[1];
          parent.appendChild(aa);
          i += al[0].length;
          continue;
        }
      }
      if (c === '@' && !isWord(s[i - 1]) && s[i - 1] !== '.') {
        var nm = /^@([A-Za-z0-9_][A-Za-z0-9_.\-]*)/.exec(s.slice(i, i + 100));
        if (nm) {
          var nick = nm[1].replace(/[.\-]+$/, '');
          var known = S.byNick.get(nick.toLowerCase());
          if (known || nick === 'all' || nick === 'here') {
            text();
            var ms = el('span', 'mention', '@' + nick);
            if (known) ms.title = known.name;
            parent.appendChild(ms);
            i += 1 + nick.length;
            continue;
          }
        }
      }
      if (!noLinks && (c === 'h' || c === 'H' || c === 'w' || c === 'W') && !isWord(s[i - 1])) {
        var bare = /^(?:https?:\/\/|www\.)[^\s<>]+/i.exec(s.slice(i, i + 2000));
        if (bare) {
          var trimmed = bare[0];
          // Trailing punctuation ends the sentence, not the URL; ")" stays when it closes a "(" inside.
          while (/[.,;:!?'"\])*_~]$/.test(trimmed)) {
            if (trimmed.endsWith(')') && (trimmed.match(/\(/g) || []).length >= (trimmed.match(/\)/g) || []).length) break;
            trimmed = trimmed.slice(0, -1);
          }
          var target = safeHref(/^www\./i.test(trimmed) ? 'http://' + trimmed : trimmed);
          if (target && trimmed.length > 4) {
            text();
            var ba = anchor(target, 'link');
            ba.textContent = trimmed;
            parent.appendChild(ba);
            i += trimmed.length;
            continue;
          }
        }
      }
      if ((c === '*' || c === '~') && s[i + 1] === c && !isSpace(s[i + 2])) {
        var d = c + c;
        var e2 = findClose(s, i + 2, d, false);
        if (e2 > i + 2 && !isSpace(s[e2 - 1])) {
          text();
          wrap(parent, c === '*' ? 'strong' : 's', null, s.slice(i + 2, e2), noLinks);
          i = e2 + 2;
          continue;
        }
      }
      if (c === '*' && s[i + 1] !== '*' && !isSpace(s[i + 1])) {
        var e1 = findClose(s, i + 1, '*', true);
        if (e1 > i + 1 && !isSpace(s[e1 - 1])) {
          text();
          wrap(parent, 'em', null, s.slice(i + 1, e1), noLinks);
          i = e1 + 1;
          continue;
        }
      }
      // snake_case stays as is: an underscore only opens/closes at a word edge.
      if (c === '_' && !isWord(s[i - 1]) && s[i + 1] !== '_' && !isSpace(s[i + 1])) {
        var eu = -1;
        for (var k = i + 1; k < s.length; k++) {
          if (s[k] === '\\') { k++; continue; }
          if (s[k] === '_' && !isSpace(s[k - 1]) && !isWord(s[k + 1]) && s[k + 1] !== '_') { eu = k; break; }
        }
        if (eu > i + 1) {
          text();
          wrap(parent, 'em', null, s.slice(i + 1, eu), noLinks);
          i = eu + 1;
          continue;
        }
      }
      buf += c;
      i++;
    }
    text();
  }

  // ---- formatting helpers ----
  var timeFmt = new Intl.DateTimeFormat('ru-RU', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  var dayFmt = new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'short' });
  var fullFmt = new Intl.DateTimeFormat('ru-RU', { dateStyle: 'long', timeStyle: 'medium' });
  var viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  function sameDay(a, b) { return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate(); }
  function timeEl(iso, cls) {
    var d = new Date(iso);
    var t = el('time', cls || 'time', (sameDay(d, new Date()) ? '' : dayFmt.format(d) + ', ') + timeFmt.format(d));
    t.dateTime = iso;
    t.title = fullFmt.format(d) + ' (' + viewerZone + ')';
    return t;
  }
  function initials(name) {
    var parts = String(name).trim().split(/\s+/).filter(Boolean);
    return ((parts[0] || '?')[0] + (parts[1] ? parts[1][0] : '')).toUpperCase();
  }
  function colorOf(key) { var h = 0; var s = String(key); for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0; return 'c' + (h % 8); }
  function plural(n, one, few, many) {
    var m10 = n % 10, m100 = n % 100;
    return m10 === 1 && m100 !== 11 ? one : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? few : many;
  }
  function toast(msg) {
    var t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  // ---- messages ----
  function avatarEl(m, name, small) {
    var av = el('div', 'avatar ' + colorOf(m.display_name || m.user_id) + (small ? ' sm' : ''), initials(name));
    var user = S.users.get(m.user_id);
    var src = m.display_avatar_url ? safeHref(m.display_avatar_url) : user && user.image_url ? safeHref(user.image_url) : null;
    if (src && !/^mailto:/i.test(src)) {
      var img = document.createElement('img');
      img.alt = '';
      img.referrerPolicy = 'no-referrer';
      img.addEventListener('error', function () { img.remove(); });
      img.src = src;
      av.appendChild(img);
    }
    return av;
  }

  function messageEl(m, small) {
    var user = S.users.get(m.user_id);
    var name = m.display_name || (user ? user.name : 'Пользователь ' + m.user_id);
    var art = el('article', 'msg');
    art.id = 'message-' + m.id;
    art.dataset.id = String(m.id);
    if (S.known && !S.known.has(m.id)) art.classList.add('fresh');
    art.appendChild(avatarEl(m, name, small));
    var body = el('div', 'msg-body');
    var meta = el('div', 'meta');
    meta.appendChild(el('span', 'author', name));
    if (user && user.bot) meta.appendChild(el('span', 'badge', 'бот'));
    meta.appendChild(timeEl(m.created_at));
    if (m.changed_at) {
      var ed = el('span', 'edited', 'изменено');
      ed.title = 'Изменено: ' + fullFmt.format(new Date(m.changed_at));
      meta.appendChild(ed);
    }
    var size = el('span', 'size', m.bytes + ' Б');
    size.dataset.bytes = String(m.bytes);
    size.title = m.bytes + ' байт в UTF-8 из ' + S.maxBytes + ' допустимых';
    if (m.bytes > S.maxBytes) size.classList.add('over-limit');
    else if (m.bytes > S.maxBytes * 0.8) size.classList.add('near-limit');
    meta.appendChild(size);
    body.appendChild(meta);
    if (m.parent_message_id && !m.isChild) {
      body.appendChild(el('div', 'reply-to', '↳ ответ на сообщение #' + m.parent_message_id));
    }
    body.appendChild(renderContent(m.content));
    if (m.files && m.files.length) {
      var files = el('div', 'files');
      m.files.forEach(function (f) { var fe = el('span', 'file', f.name + ' · ' + f.size + ' Б'); fe.title = f.file_type; files.appendChild(fe); });
      body.appendChild(files);
    }
    if (m.buttons && m.buttons.length) body.appendChild(buttonsEl(m.buttons));
    if (m.replies && m.replies.length) {
      body.appendChild(childrenEl('replies', m.replies.length + ' ' + plural(m.replies.length, 'ответ', 'ответа', 'ответов'), m.replies));
    }
    if (m.thread && m.thread.messages.length) {
      var n = m.thread.messages.length;
      body.appendChild(childrenEl('thread', 'Тред · ' + n + ' ' + plural(n, 'сообщение', 'сообщения', 'сообщений'), m.thread.messages));
    }
    art.appendChild(body);
    return art;
  }

  function childrenEl(kind, title, list) {
    var box = el('div', 'children ' + kind);
    box.appendChild(el('div', 'children-title', title));
    list.forEach(function (c) {
      c.isChild = kind === 'replies';
      box.appendChild(messageEl(c, true));
      if (c.replies && c.replies.length) c.replies.forEach(function (r) { r.isChild = true; box.appendChild(messageEl(r, true)); });
    });
    return box;
  }

  function buttonsEl(rows) {
    var grid = el('div', 'buttons');
    rows.forEach(function (row) {
      var r = el('div', 'button-row');
      row.forEach(function (b) {
        var href = b.url ? safeHref(b.url) : null;
        var node;
        if (href) {
          node = anchor(href, 'msg-button url');
          node.textContent = b.text;
          node.title = b.url;
        } else {
          node = el('button', 'msg-button data', b.text);
          node.type = 'button';
          node.title = 'data: ' + (b.data || '');
          node.addEventListener('click', function () { toast('Кнопка отправит боту вебхук с data = ' + (b.data || '')); });
        }
        r.appendChild(node);
      });
      grid.appendChild(r);
    });
    return grid;
  }

  function renderChats() {
    var nav = $('chats');
    nav.textContent = '';
    S.chats.forEach(function (c) {
      var b = el('button', 'chat-item');
      b.type = 'button';
      b.dataset.chatId = String(c.id);
      if (c.id === S.chatId) b.classList.add('active');
      if (S.unread.has(c.id)) b.classList.add('unread');
      b.appendChild(el('span', 'chat-icon', c.kind === 'direct' ? '@' : c.channel ? '≡' : '#'));
      b.appendChild(el('span', 'chat-name', c.name));
      b.appendChild(el('span', 'chat-count', c.count));
      b.addEventListener('click', function () { S.follow = false; selectChat(c.id); });
      nav.appendChild(b);
    });
  }

  function selectChat(id, focus) {
    S.chatId = id;
    S.known = null;
    S.focus = focus || null;
    S.unread.delete(id);
    history.replaceState(null, '', '#chat-' + id);
    showView('messages');
    refresh();
  }

  function renderMessages(chat) {
    var box = $('messages');
    var view = $('view-messages');
    var atBottom = view.scrollHeight - view.scrollTop - view.clientHeight < 60;
    var prevTop = view.scrollTop;
    box.textContent = '';
    var count = 0;
    if (chat) chat.messages.forEach(function (m) { count += 1 + m.replies.length + (m.thread ? m.thread.messages.length : 0); });
    // In the Jobs view the header is the Jobs view's own.
    if (S.view === 'messages') {
      $('chat-title').textContent = chat ? chat.name : 'Нет чатов';
      $('chat-sub').textContent = chat ? 'id ' + chat.id + ' · ' + count + ' ' + plural(count, 'сообщение', 'сообщения', 'сообщений') : '';
    }
    if (!chat) return;
    if (!chat.messages.length) {
      var empty = el('div', 'empty');
      empty.appendChild(el('div', null, 'В этом чате пока нет сообщений. Отправьте что-нибудь через API:'));
      empty.appendChild(el('pre', null, 'curl -X POST ' + S.baseUrl + '/messages \\\n  -H "Authorization: Bearer sandbox" -H "Content-Type: application/json" \\\n  -d \'{"message":{"entity_id":' + chat.id + ',"content":"**Привет**"}}\''));
      box.appendChild(empty);
    }
    var seen = new Set();
    chat.messages.forEach(function (m) {
      box.appendChild(messageEl(m, false));
      seen.add(m.id);
      m.replies.forEach(function (r) { seen.add(r.id); });
      if (m.thread) m.thread.messages.forEach(function (t) { seen.add(t.id); t.replies.forEach(function (r) { seen.add(r.id); }); });
    });
    var firstPaint = S.known === null;
    S.known = seen;
    if (S.focus && $('message-' + S.focus)) {
      var target = $('message-' + S.focus);
      target.scrollIntoView({ block: 'center' });
      target.classList.remove('fresh');
      void target.offsetWidth;
      target.classList.add('fresh');
      S.focus = null;
    } else if (firstPaint || atBottom) view.scrollTop = view.scrollHeight;
    else view.scrollTop = prevTop;
  }

  function latestChat() {
    var best = null;
    S.chats.forEach(function (c) {
      if (c.last_message_at && (!best || c.last_message_at > best.last_message_at)) best = c;
    });
    return best || S.chats[0] || null;
  }

  function applyState(data) {
    S.baseUrl = data.baseUrl;
    S.maxBytes = data.maxContentBytes;
    S.users = new Map();
    S.byNick = new Map();
    data.users.forEach(function (u) { S.users.set(u.id, u); S.byNick.set(String(u.nickname).toLowerCase(), u); });
    var counts = new Map();
    data.chats.forEach(function (c) {
      counts.set(c.id, c.count);
      if (S.counts && c.id !== S.chatId && c.count > (S.counts.get(c.id) || 0)) S.unread.add(c.id);
    });
    S.counts = counts;
    S.chats = data.chats.slice().sort(function (a, b) { return a.id - b.id; });
    if (S.follow) {
      var latest = latestChat();
      if (latest && latest.id !== S.chatId) {
        S.chatId = latest.id;
        S.known = null;
        S.unread.delete(latest.id);
        return refresh();
      }
    }
    if (S.chatId === null || !counts.has(S.chatId)) {
      var first = latestChat();
      if (first) { S.chatId = first.id; return refresh(); }
    }
    renderChats();
    renderMessages(data.chat);
  }

  function refresh() {
    if (S.loading) { S.again = true; return; }
    S.loading = true;
    var q = S.chatId === null ? '' : '?chat_id=' + encodeURIComponent(S.chatId);
    return fetch('/__web/api/state' + q, { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (data) { S.loading = false; applyState(data); })
      .catch(function () { S.loading = false; })
      .then(function () { if (S.again) { S.again = false; refresh(); } });
  }

  var pending = null;
  function soon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; refresh(); refreshStats(); }, 60);
  }

  // ---- stats panel ----
  function statusClass(s) {
    if (s === '429') return 's429';
    if (/^\d/.test(s)) return 's' + s[0];
    return 'sreset';
  }
  function tile(value, label, alert) {
    var t = el('div', 'tile' + (alert ? ' alert' : ''));
    t.appendChild(el('div', 'tile-value', value));
    t.appendChild(el('div', 'tile-label', label));
    return t;
  }
  function renderStats(d) {
    var box = $('stats');
    box.textContent = '';
    var st = d.stats;
    var tiles = el('div', 'tiles');
    var total = tile(st.requests, 'запросов');
    total.dataset.stat = 'requests';
    var rl = tile(st.rateLimited, 'ответов 429', st.rateLimited > 0);
    rl.dataset.stat = 'rate-limited';
    var fl = tile(st.faultsInjected, 'сбоев внедрено', st.faultsInjected > 0);
    fl.dataset.stat = 'faults';
    tiles.appendChild(total); tiles.appendChild(rl); tiles.appendChild(fl);
    box.appendChild(tiles);

    box.appendChild(el('h3', null, 'По методам'));
    var eps = Object.keys(st.byEndpoint).sort();
    if (!eps.length) box.appendChild(el('div', 'muted', 'Запросов к API ещё не было.'));
    eps.forEach(function (ep) {
      var row = el('div', 'ep-row');
      row.dataset.endpoint = ep;
      row.appendChild(el('span', 'ep-name', ep));
      var chips = el('span', 'chips');
      Object.keys(st.byEndpoint[ep]).sort().forEach(function (s) {
        var ch = el('span', 'chip ' + statusClass(s), s + ' × ' + st.byEndpoint[ep][s]);
        ch.dataset.status = s;
        chips.appendChild(ch);
      });
      row.appendChild(chips);
      box.appendChild(row);
    });

    var kinds = Object.keys(st.faultsByKind);
    if (kinds.length || d.faults.length) {
      box.appendChild(el('h3', null, 'Сбои'));
      kinds.forEach(function (k) { box.appendChild(el('div', 'ep-row fault-kind', k + ': ' + st.faultsByKind[k])); });
      d.faults.forEach(function (f) {
        box.appendChild(el('div', 'muted', 'активен #' + f.id + ' ' + f.kind + ', осталось ' + (f.remaining === null ? '∞' : f.remaining)));
      });
    }

    box.appendChild(el('h3', null, 'Последние запросы'));
    d.requests.forEach(function (r) {
      var row = el('div', 'req');
      row.appendChild(el('span', 'req-time', timeFmt.format(new Date(r.time)) + ':' + String(new Date(r.time).getSeconds()).padStart(2, '0')));
      var p = el('span', 'req-path', r.method + ' ' + r.path.replace(/^\/api\/shared\/v1/, ''));
      p.title = r.path;
      row.appendChild(p);
      var s = r.status === null ? r.outcome : String(r.status);
      var right = el('span', 'chips');
      if (r.fault) right.appendChild(el('span', 'fault-tag', r.fault));
      right.appendChild(el('span', 'chip ' + statusClass(s), s));
      row.appendChild(right);
      box.appendChild(row);
    });
  }
  var statsBusy = false;
  function refreshStats() {
    if (statsBusy) return;
    statsBusy = true;
    fetch('/__web/api/stats', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(renderStats)
      .catch(function () { /* the next poll retries */ })
      .then(function () { statsBusy = false; });
  }

  // ---- jobs ----
  function zoneFmt(zone) {
    try { return new Intl.DateTimeFormat('ru-RU', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }); }
    catch (e) { return new Intl.DateTimeFormat('ru-RU', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }); }
  }
  function renderJobs(list) {
    var box = $('jobs');
    box.textContent = '';
    if (!list.length) { box.appendChild(el('div', 'empty', 'В конфигурации нет заданий.')); return; }
    var table = el('table');
    var head = el('tr');
    ['Задание', 'Расписание', 'Ближайшие запуски', ''].forEach(function (h) { head.appendChild(el('th', null, h)); });
    var thead = el('thead'); thead.appendChild(head); table.appendChild(thead);
    var tbody = el('tbody');
    list.forEach(function (j) {
      var tr = el('tr', 'job');
      tr.dataset.job = j.name;
      var c1 = el('td');
      c1.appendChild(el('div', 'job-name', j.name));
      if (j.description) c1.appendChild(el('div', 'job-desc', j.description));
      if (!j.enabled) c1.appendChild(el('div', 'disabled-badge', 'выключено'));
      var c2 = el('td');
      c2.appendChild(el('div', null, j.scheduleText));
      var sub = el('div', 'job-sub');
      sub.appendChild(el('code', null, j.schedule));
      sub.appendChild(document.createTextNode(' · ' + j.timezone));
      c2.appendChild(sub);
      var c3 = el('td', 'job-next');
      var f = zoneFmt(j.timezone);
      if (!j.next.length) c3.appendChild(el('div', 'muted', '—'));
      j.next.slice(0, 3).forEach(function (iso) {
        var line = el('div', 'next-run', f.format(new Date(iso)));
        line.dataset.iso = iso;
        line.title = fullFmt.format(new Date(iso)) + ' (' + viewerZone + ')';
        c3.appendChild(line);
      });
      var c4 = el('td');
      var btn = el('button', 'run-now', 'Запустить сейчас');
      btn.type = 'button';
      var result = el('div', 'job-result');
      btn.addEventListener('click', function () { runJob(j.name, btn, result); });
      c4.appendChild(btn);
      c4.appendChild(result);
      [c1, c2, c3, c4].forEach(function (c) { tr.appendChild(c); });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    box.appendChild(table);
  }
  function runJob(name, btn, result) {
    btn.disabled = true;
    result.className = 'job-result';
    result.textContent = 'выполняется…';
    fetch('/__web/api/jobs/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: name }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (r) {
        var d = r.body && r.body.data;
        result.textContent = '';
        if (!d) {
          result.className = 'job-result fail';
          result.textContent = (r.body && r.body.errors && r.body.errors[0] && r.body.errors[0].message) || 'ошибка';
          return;
        }
        result.dataset.status = d.status;
        result.className = 'job-result ' + (d.error || !r.ok ? 'fail' : 'ok');
        result.appendChild(document.createTextNode(d.status + (d.error ? ': ' + d.error : '')));
        (d.messages || []).forEach(function (m) {
          var a = el('a', 'job-message', '#' + m.id);
          a.href = '#message-' + m.id;
          a.addEventListener('click', function (ev) {
            ev.preventDefault();
            if (m.chat_id !== null) { S.follow = false; selectChat(m.chat_id, m.id); }
          });
          result.appendChild(a);
        });
      })
      .catch(function (e) { result.className = 'job-result fail'; result.textContent = String(e); })
      .then(function () { btn.disabled = false; soon(); });
  }
  function refreshJobs() {
    if (!S.jobsEnabled) return;
    fetch('/__web/api/jobs', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (b) { renderJobs(b.data || []); })
      .catch(function () { $('jobs').textContent = 'Не удалось загрузить задания.'; });
  }

  // ---- views, live updates ----
  function showView(v) {
    S.view = v;
    document.querySelectorAll('.tab').forEach(function (t) { t.classList.toggle('active', t.dataset.view === v); });
    $('view-messages').hidden = v !== 'messages';
    $('view-jobs').hidden = v !== 'jobs';
    if (v === 'jobs') {
      $('chat-title').textContent = 'Задания';
      $('chat-sub').textContent = 'из конфигурации; «Запустить сейчас» отправит дайджест в песочницу';
      refreshJobs();
    }
  }

  function connect() {
    var live = $('live');
    var es = new EventSource('/__sandbox/events');
    es.onopen = function () { live.className = 'live on'; live.textContent = 'онлайн'; soon(); };
    es.onerror = function () { live.className = 'live off'; live.textContent = 'нет связи'; };
    ['message:created', 'message:updated', 'message:deleted', 'chat:created', 'thread:created'].forEach(function (name) {
      es.addEventListener(name, soon);
    });
    es.addEventListener('reset', function () { S.known = null; S.unread.clear(); S.counts = null; soon(); });
  }

  function start() {
    S.jobsEnabled = document.body.dataset.jobs === '1';
    document.querySelectorAll('.tab').forEach(function (t) {
      t.addEventListener('click', function () { showView(t.dataset.view); if (t.dataset.view === 'messages') refresh(); });
    });
    var m = /^#chat-(\d+)$/.exec(location.hash);
    if (m) { S.chatId = Number(m[1]); S.follow = false; }
    window.addEventListener('hashchange', function () {
      var h = /^#chat-(\d+)$/.exec(location.hash);
      if (h && Number(h[1]) !== S.chatId) { S.follow = false; selectChat(Number(h[1])); }
    });
    refresh();
    refreshStats();
    connect();
    // GETs and failed requests change no message, so the panel polls as well as listening.
    setInterval(function () { if (!document.hidden) refreshStats(); }, 1500);
    setInterval(function () { if (!document.hidden && S.view === 'jobs') refreshJobs(); }, 15000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
