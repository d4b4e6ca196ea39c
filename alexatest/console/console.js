// alexa-oos emulator console: renders the emulator's state, pushed as
// Server-Sent Events, and sends the console's few controls. Every value
// from the emulator is put in the page as text, never as HTML.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);

  // h builds an element: h('p', {class: 'x'}, 'text', child, [more]).
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid == null || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }

  const filters = { user: $('f-user'), name: $('f-name'), status: $('f-status') };
  let source = null;
  let state = null;
  let skew = 0; // the emulator's clock minus ours, for countdowns

  function setConn(text, kind) {
    const el = $('conn');
    el.textContent = text;
    el.className = 'conn ' + kind;
  }

  function notice(text) {
    $('notice').textContent = text;
  }

  function query() {
    const p = new URLSearchParams();
    for (const [k, el] of Object.entries(filters)) if (el.value) p.set(k, el.value);
    const q = p.toString();
    return q ? '?' + q : '';
  }

  function connect() {
    if (source) source.close();
    const q = query();
    history.replaceState(null, '', location.pathname + q);
    setConn('Connecting…', 'wait');
    source = new EventSource('/_emulator/console/stream' + q);
    source.addEventListener('state', (ev) => {
      const msg = JSON.parse(ev.data);
      skew = Date.parse(msg.now) - Date.now();
      state = msg.state;
      render();
      setConn('Live', 'ok');
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        setConn('Disconnected: the emulator stopped, or too many consoles are open. Reload to try again.', 'bad');
      } else {
        setConn('Reconnecting…', 'wait');
      }
    });
  }

  async function post(path, body) {
    try {
      const resp = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body || {}),
      });
      if (!resp.ok) {
        let text = resp.status + ' ' + resp.statusText;
        try { text = (await resp.json()).message || text; } catch (e) { /* not JSON */ }
        notice('Refused: ' + text);
        return false;
      }
      return true;
    } catch (e) {
      notice('The emulator did not answer: ' + e.message);
      return false;
    }
  }

  // Formatting.
  const clock = (t) => new Date(t).toLocaleTimeString();
  function left(expiry) {
    let s = Math.round((Date.parse(expiry) - (Date.now() + skew)) / 1000);
    if (s <= 0) return 'expired';
    const d = Math.floor(s / 86400); s -= d * 86400;
    const hr = Math.floor(s / 3600); s -= hr * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const parts = d ? [d + 'd', hr + 'h'] : hr ? [hr + 'h', m + 'm'] : m ? [m + 'm', s + 's'] : [s + 's'];
    return 'expires in ' + parts.join(' ');
  }
  const countdown = (expiry) => h('span', { class: 'countdown', 'data-expiry': expiry, title: 'expiry ' + new Date(expiry).toLocaleString() }, left(expiry));
  function tick() {
    for (const el of document.querySelectorAll('[data-expiry]')) el.textContent = left(el.dataset.expiry);
  }
  function statusBadge(status) {
    const kind = status >= 200 && status < 300 ? 'ok' : status >= 500 || status === 0 ? 'bad' : 'warn';
    return h('span', { class: 'badge ' + kind }, status === 0 ? 'dropped' : status);
  }
  const more = (n, what) => (n > 0 ? h('p', { class: 'hint' }, `and ${n} more ${what}`) : null);
  const empty = (text) => h('p', { class: 'empty' }, text);
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // Parts of the page.
  function notification(n) {
    const spoken = n.preview.length
      ? n.preview.map((s) => h('p', { class: 'spoken' }, h('span', { class: 'locale' }, s.locale || 'any locale'), ' ', h('q', {}, s.text)))
      : h('p', { class: 'muted' }, 'No spoken preview: this event name is not in the catalogue.');
    let audience = n.audience === 'multicast' ? 'multicast, as a subscriber' : 'unicast';
    if (n.recipients != null && n.audience === 'multicast') audience += ` (${plural(n.recipients, 'subscriber', 'subscribers')})`;
    return h('li', { class: 'note' + (n.unread ? ' unread' : ''), 'data-seq': n.seq },
      spoken,
      h('p', { class: 'meta' },
        n.unread ? h('strong', {}, 'New · ') : null,
        h('span', { class: 'event-name' }, n.name), ' · ', n.stage, ' · ', audience, ' · ',
        'sent ', clock(n.received), ' · ', countdown(n.expiry), ' · ',
        h('a', { href: n.bodyUrl, target: '_blank', rel: 'noopener' }, 'request body')));
  }

  function skillAnswer(s) {
    if (!s) return null;
    if (s.pending) return [' · ', 'skill: waiting for its answer'];
    const retry = s.nextAttempt ? [` · attempt ${s.attempts}, next at `, clock(s.nextAttempt)] : [];
    if (s.error) return [' · ', 'skill: ', h('strong', {}, s.error), ...retry];
    return [' · skill answered ', statusBadge(s.status), ` in ${s.latencyMs.toFixed(1)} ms`];
  }

  function message(m) {
    return h('li', { class: 'msg', 'data-seq': m.seq },
      h('pre', { class: 'data' }, m.data + (m.truncated ? ` (first ${m.data.length} of ${m.dataBytes} bytes)` : '')),
      h('p', { class: 'meta' }, 'received ', clock(m.received), ' · expires after ', m.expiresAfterSeconds, ' s', skillAnswer(m.skill)));
  }

  function device(d) {
    return h('div', { class: 'device' },
      h('p', {}, h('code', {}, d.id), ' ',
        h('span', { class: 'badge ' + (d.removed ? 'bad' : d.online ? 'ok' : 'warn') }, d.removed ? 'removed' : d.online ? 'online' : 'offline'),
        d.pending ? ` ${plural(d.pending, 'delivery', 'deliveries')} waiting` : '',
        ` · ${d.storedBytes} bytes stored`),
      d.objects.length
        ? h('dl', {}, d.objects.map((o) => [h('dt', {}, o.namespace, ' / ', o.key), h('dd', {}, h('pre', {}, o.content))]))
        : empty('Stores nothing.'),
      more(d.moreObjects, 'objects'));
  }

  function subscriptions(u, i) {
    const subs = u.subscriptions || []; // absent when the user has none
    const list = h('ul', { class: 'subs' }, subs.map((ev) => h('li', {},
      h('span', { class: 'event-name' }, ev),
      h('button', { type: 'button', class: 'secondary small', 'data-key': `unsub:${u.id}:${ev}`, 'aria-label': `Unsubscribe ${u.id} from ${ev}`,
        onclick: () => post('/_emulator/console/subscriptions', { user: u.id, event: ev, subscribed: false }) }, 'Unsubscribe'))));
    const sel = h('select', { id: `sub-${i}`, 'data-key': `subsel:${u.id}` },
      state.eventNames.filter((n) => !subs.includes(n)).map((n) => h('option', { value: n }, n)));
    return [
      subs.length ? list : empty('Not subscribed to any event.'),
      h('div', { class: 'subform' },
        h('div', { class: 'field' }, h('label', { for: `sub-${i}` }, 'Event to subscribe to'), sel),
        h('button', { type: 'button', class: 'small', 'data-key': `sub:${u.id}`,
          onclick: () => sel.value && post('/_emulator/console/subscriptions', { user: u.id, event: sel.value, subscribed: true }) }, 'Subscribe')),
    ];
  }

  function userCard(u, i) {
    const head = `user-${i}`;
    const ring = h('span', { class: 'ring' + (u.unread ? ' lit' : ''), role: 'img',
      'aria-label': u.unread ? `light ring on: ${plural(u.unread, 'unread notification', 'unread notifications')}` : 'light ring off' });
    return h('article', { class: 'card', 'aria-labelledby': head, 'data-user': u.id },
      h('div', { class: 'card-head' }, ring, h('h3', { id: head, class: 'uid' }, u.id)),
      h('p', { class: 'unread-line' },
        u.unread ? plural(u.unread, 'new notification', 'new notifications') : 'No new notifications',
        u.unread ? h('button', { type: 'button', class: 'secondary small', 'data-key': `read:${u.id}`, 'aria-label': `Mark the notifications of ${u.id} read`,
          onclick: () => post('/_emulator/console/read', { user: u.id }) }, 'Mark read') : null),
      h('h4', {}, 'Notifications'),
      u.notifications.length ? h('ol', {}, u.notifications.map(notification)) : empty('No notifications.'),
      more(u.moreNotifications, 'notifications'),
      h('h4', {}, 'Skill messages'),
      u.messages.length ? h('ol', {}, u.messages.map(message)) : empty('No skill messages.'),
      more(u.moreMessages, 'messages'),
      state.features.subscriptions ? [h('h4', {}, 'Subscriptions'), subscriptions(u, i)] : null,
      h('h4', {}, 'DataStore'),
      u.devices.length ? u.devices.map(device) : empty('No DataStore device.'),
      more(u.moreDevices, 'devices'));
  }

  function call(c) {
    const refused = c.status >= 400 || c.status === 0;
    return h('tr', { class: refused ? 'refused' : null, 'data-seq': c.seq },
      h('td', { 'data-label': 'Time' }, clock(c.received)),
      h('td', { 'data-label': 'Call' }, h('code', {}, c.method, ' ', c.path),
        c.user || c.event ? h('span', { class: 'meta' }, [c.user, c.event].filter(Boolean).join(' · ')) : null,
        h('span', { class: 'meta' }, `${c.durationMs.toFixed(1)} ms`)),
      h('td', { 'data-label': 'Status' }, statusBadge(c.status)),
      h('td', { 'data-label': 'Refusal' }, refused ? [h('strong', { class: 'code' }, c.code || 'refused'), c.message ? ': ' + c.message : ''] : '—'),
      h('td', { 'data-label': 'Request body' }, c.bodyUrl
        ? h('a', { href: c.bodyUrl, target: '_blank', rel: 'noopener', 'aria-label': `request body of call ${c.seq}, ${c.bodyBytes} bytes` }, `${c.bodyBytes} bytes`)
        : 'empty'));
  }

  function token(t) {
    return h('tr', { class: t.status >= 400 ? 'refused' : null },
      h('td', { 'data-label': 'Time' }, clock(t.received)),
      h('td', { 'data-label': 'Grant' }, t.grantType || '—'),
      h('td', { 'data-label': 'Client id' }, h('code', {}, t.clientId || '—')),
      h('td', { 'data-label': 'Scope' }, t.scope || (t.grantType === 'refresh_token' ? 'from the refresh token' : '—')),
      h('td', { 'data-label': 'Status' }, statusBadge(t.status), t.error ? [' ', h('strong', { class: 'code' }, t.error)] : null),
      h('td', { 'data-label': 'Expiry' }, t.expiry ? countdown(t.expiry) : 'not issued'));
  }

  // fill puts values in a filter's select, keeping its first option and
  // its value.
  function fill(sel, values) {
    const want = sel.value || sel.dataset.want || '';
    const list = values.includes(want) || !want ? values : [want, ...values];
    const key = list.join('\n');
    if (sel.dataset.list === key) return;
    sel.dataset.list = key;
    sel.replaceChildren(sel.options[0], ...list.map((v) => h('option', { value: v }, v)));
    sel.value = want;
    delete sel.dataset.want;
  }

  function render() {
    // Keep focus and choices across the redraw.
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const chosen = {};
    for (const el of document.querySelectorAll('main select[data-key]')) chosen[el.dataset.key] = el.value;

    fill(filters.user, state.userIds);
    fill(filters.name, state.eventNames);

    $('users').replaceChildren(...(state.users.length ? state.users.map(userCard) : [empty('No users yet: send an event or a message to one.')]),
      ...(state.moreUsers ? [more(state.moreUsers, 'users (filter by user to see one)')] : []));

    const mc = state.multicast;
    const mcRing = h('span', { class: 'ring' + (mc.unread ? ' lit' : ''), role: 'img',
      'aria-label': mc.unread ? `light ring on: ${plural(mc.unread, 'unread notification', 'unread notifications')}` : 'light ring off' });
    $('multicast').replaceChildren(h('article', { class: 'card', 'aria-labelledby': 'mc-head', 'data-user': 'Multicast' },
      h('div', { class: 'card-head' }, mcRing, h('h3', { id: 'mc-head' }, 'Every subscriber')),
      h('p', { class: 'unread-line' },
        mc.unread ? plural(mc.unread, 'new notification', 'new notifications') : 'No new notifications',
        mc.unread ? h('button', { type: 'button', class: 'secondary small', 'data-key': 'read:Multicast', 'aria-label': 'Mark the multicast notifications read',
          onclick: () => post('/_emulator/console/read', { user: 'Multicast' }) }, 'Mark read') : null),
      mc.notifications.length ? h('ol', {}, mc.notifications.map(notification)) : empty('No multicast notifications.'),
      more(mc.more, 'notifications')));

    $('loose').hidden = state.devices.length === 0;
    $('devices').replaceChildren(...state.devices.map((d) => h('article', { class: 'card' }, device(d))));

    $('traffic').tBodies[0].replaceChildren(...state.traffic.map(call));
    $('traffic-more').textContent = state.traffic.length ? (state.moreTraffic ? `and ${state.moreTraffic} more calls` : '') : 'No API calls yet.';
    $('tokens').tBodies[0].replaceChildren(...state.tokens.map(token));

    const k = state.kept;
    const ev = state.evicted;
    $('kept').textContent = `The emulator keeps ${k.events} events, ${k.messages} messages, ${k.tokens} token requests and ${k.calls} calls` +
      ` (forgotten so far: ${ev.events}, ${ev.messages}, ${ev.tokens}, ${ev.calls}). ${plural(state.feeds, 'console', 'consoles')} open.`;

    for (const el of document.querySelectorAll('main select[data-key]')) {
      if (chosen[el.dataset.key] && [...el.options].some((o) => o.value === chosen[el.dataset.key])) el.value = chosen[el.dataset.key];
    }
    if (focused) {
      const el = [...document.querySelectorAll('[data-key]')].find((x) => x.dataset.key === focused);
      if (el) el.focus();
    }
  }

  // Controls.
  const params = new URLSearchParams(location.search);
  for (const [k, el] of Object.entries(filters)) {
    const v = params.get(k);
    if (v) {
      el.dataset.want = v;
      if (el === filters.status) el.value = v;
      else fill(el, [v]);
    }
    el.addEventListener('change', () => { notice(''); connect(); });
  }
  const ask = $('reset-confirm');
  const resetBtn = $('reset');
  function closeAsk() {
    ask.hidden = true;
    resetBtn.setAttribute('aria-expanded', 'false');
    resetBtn.focus();
  }
  resetBtn.addEventListener('click', () => {
    ask.hidden = false;
    resetBtn.setAttribute('aria-expanded', 'true');
    $('reset-yes').focus();
  });
  $('reset-no').addEventListener('click', closeAsk);
  $('reset-yes').addEventListener('click', async () => {
    if (await post('/_emulator/reset')) notice('The emulator was reset.');
    closeAsk();
  });
  $('filters').addEventListener('submit', (ev) => ev.preventDefault());

  connect();
  setInterval(tick, 1000);
})();
