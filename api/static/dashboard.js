/* Officials' dashboard for hocvuso: reads the officials' API with a bearer token.
 *
 * No framework and no network beyond this server. Every piece of data goes into the page
 * through textContent / text nodes, never innerHTML. Charts are hand-made inline SVG.
 */
'use strict';

(() => {
  const TOKEN_KEY = 'hocvuso.dashboard.token';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MESSAGES = {
    401: 'Mã truy cập không đúng hoặc đã bị thu hồi.',
    403: 'Mã này không được xem mục này.',
    429: 'Bạn thao tác nhanh quá, chờ một chút rồi thử lại.',
    network: 'Không kết nối được máy chủ.',
    unreadable: 'Máy chủ trả về số liệu không đọc được.',
    empty: 'Chưa có số liệu.',
  };
  const STATUS = { met: 'Đạt', on_track: 'Đúng tiến độ', behind: 'Chậm', missed: 'Không đạt' };

  const $ = (id) => document.getElementById(id);
  let generation = 0; // bumps on every load and sign-out, so stale answers are dropped
  let trendWeeks = null; // kept to redraw the chart when the width changes

  /* ---------- token ---------- */

  let memoryToken = ''; // fallback when sessionStorage is unavailable

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
  }
  function setToken(value) {
    try { sessionStorage.setItem(TOKEN_KEY, value); } catch { /* private mode: memory only */ }
    memoryToken = value;
  }
  function clearToken() {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing stored */ }
    memoryToken = '';
  }
  const token = () => getToken() || memoryToken;

  // Kiosks and the browser test open `/dashboard#token=...`: the token is taken once from the
  // fragment (which browsers never send to the server), kept in sessionStorage like a typed one,
  // and wiped from the address bar with history.replaceState so it stays out of the history.
  function takeTokenFromFragment() {
    const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    if (fromUrl) setToken(fromUrl.trim());
  }

  /* ---------- small helpers ---------- */

  function fill(node, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'style') Object.assign(node.style, value); // CSSOM: allowed by the CSP
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of [].concat(children ?? [])) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }
  const el = (tag, attrs, children) => fill(document.createElement(tag), attrs, children);
  const svg = (tag, attrs, children) => fill(document.createElementNS(SVG_NS, tag), attrs, children);

  /** 0.835 -> "83,5%", 0.8 -> "80%" (Vietnamese decimal comma). */
  function pct(x) {
    if (x === null || x === undefined || !Number.isFinite(x)) return '—';
    return (Math.round(x * 1000) / 10).toFixed(1).replace('.', ',').replace(/,0$/, '') + '%';
  }
  /** 12345 -> "12.345". */
  const num = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const decimal = (x) => (x === null || x === undefined ? 'chưa có' : x.toFixed(1).replace('.', ','));
  /** "2025-12-31" -> "31/12/2025". */
  function date(iso) {
    const [y, m, d] = String(iso).split('-');
    return `${d}/${m}/${y}`;
  }
  const clamp01 = (x) => Math.max(0, Math.min(1, Number.isFinite(x) ? x : 0));
  const rateOf = (g) => (g.population > 0 ? g.certified / g.population : null);
  const byDeadline = (targets) => [...targets].sort((a, b) => a.deadline.localeCompare(b.deadline));
  const targetShare = (t) => `${t.strictly_above ? 'trên' : 'ít nhất'} ${pct(t.target_share)}`;
  const badge = (status) => el('span', { class: `badge status-${status}`, text: STATUS[status] || status });

  /** The next target still ahead on `asOf`, or the last one once all deadlines have passed. */
  function nearestTarget(targets, asOf) {
    const sorted = byDeadline(targets);
    return sorted.find((t) => t.deadline >= asOf) || sorted[sorted.length - 1] || null;
  }

  /* ---------- API ---------- */

  class ApiError extends Error {
    constructor(status, message) {
      super(message || MESSAGES[status] || `Máy chủ báo lỗi (mã ${status}). Thử lại sau.`);
      this.status = status;
    }
  }

  async function request(path) {
    // A token with spaces or letters like "ă" cannot go in a header: it is simply wrong.
    if (!/^[\x21-\x7e]+$/.test(token())) throw new ApiError(401);
    let response;
    try {
      response = await fetch(path, {
        headers: { Authorization: `Bearer ${token()}` },
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, MESSAGES.network);
    }
    if (!response.ok) throw new ApiError(response.status);
    return response;
  }

  async function requestJson(path) {
    const response = await request(path);
    try { return await response.json(); } catch { throw new ApiError(-1, MESSAGES.unreadable); }
  }

  /* ---------- screens ---------- */

  function showSignIn(message) {
    generation += 1;
    trendWeeks = null;
    $('dashboard').hidden = true;
    $('session-actions').hidden = true;
    $('subtitle').textContent = '';
    for (const body of document.querySelectorAll('.section-body')) body.replaceChildren();
    $('signin').hidden = false;
    const error = $('signin-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('token').focus();
  }

  function signOut(message) {
    clearToken();
    showSignIn(message);
  }

  function setMessage(node, text, isError) {
    node.textContent = text || '';
    node.hidden = !text;
    node.classList.toggle('error', Boolean(isError));
  }

  const SECTIONS = [
    { id: 'coverage', path: '/api/v1/overview', render: renderOverview },
    { id: 'hamlets', path: '/api/v1/hamlets', render: renderHamlets },
    { id: 'lessons', path: '/api/v1/lessons', render: renderLessons },
    { id: 'trend', path: '/api/v1/trend?weeks=12', render: renderTrend },
  ];

  async function load() {
    const mine = ++generation;
    $('signin').hidden = true;
    $('dashboard').hidden = false;
    $('session-actions').hidden = false;
    setMessage($('banner'), '');
    setMessage($('report-status'), '');
    const bodies = SECTIONS.map((s) => $(s.id).querySelector('.section-body'));
    bodies.forEach((body) => body.replaceChildren(el('p', { class: 'loading', text: 'Đang tải…' })));

    const results = await Promise.all(
      SECTIONS.map((s) => requestJson(s.path).then((data) => ({ data }), (error) => ({ error }))),
    );
    if (mine !== generation) return;
    if (results.some((r) => r.error && r.error.status === 401)) {
      signOut(MESSAGES[401]);
      return;
    }
    // 403 concerns one section; anything else (429, network, server) is said once at the top.
    const shared = results.find((r) => r.error && r.error.status !== 403);
    setMessage($('banner'), shared ? shared.error.message : '', true);
    results.forEach((result, i) => {
      const body = bodies[i];
      body.replaceChildren();
      if (result.error) {
        const text = result.error.status === 403 ? result.error.message : 'Chưa tải được mục này.';
        body.append(el('p', { class: 'message error', text }));
        return;
      }
      try {
        SECTIONS[i].render(body, result.data);
      } catch (error) {
        console.error(error);
        body.replaceChildren(el('p', { class: 'message error', text: MESSAGES.unreadable }));
      }
    });
  }

  function setSubtitle(commune, asOf) {
    $('subtitle').textContent = [commune, `Số liệu đến ngày ${date(asOf)}`].filter(Boolean).join(' · ');
  }

  /* ---------- 1. coverage against targets ---------- */

  function renderOverview(body, overview) {
    setSubtitle(overview.commune, overview.as_of);
    if (!overview.groups.length) { body.append(el('p', { text: MESSAGES.empty })); return; }
    body.append(
      el('div', { class: 'groups' }, overview.groups.map((g) => groupCard(g))),
      coverageTable(overview.groups, overview.as_of),
    );
  }

  function groupCard(group) {
    const rate = rateOf(group);
    const targets = byDeadline(group.targets);
    const row = 20; // one label row per target, so close markers never overlap
    const barTop = targets.length * row + 6;
    const barHeight = 26;
    const chart = svg('svg', {
      class: 'coverage-bar', width: '100%', height: barTop + barHeight + 22, role: 'img',
      'aria-label': `${group.label}: ${pct(rate)} được chứng nhận. ` +
        targets.map((t) => `Mốc ${date(t.deadline)}: ${targetShare(t)}, ${STATUS[t.status]}.`).join(' '),
    });
    chart.append(
      svg('rect', { class: 'track', x: 0, y: barTop, width: '100%', height: barHeight, rx: 3 }),
      svg('rect', {
        class: 'fill', x: 0, y: barTop, width: `${clamp01(rate) * 100}%`, height: barHeight, rx: 3,
      }),
    );
    for (const tick of [0, 0.5, 1]) {
      const anchor = tick === 0 ? 'start' : tick === 1 ? 'end' : 'middle';
      const y = barTop + barHeight + 16;
      chart.append(svg('text', { class: 'tick', x: `${tick * 100}%`, y, 'text-anchor': anchor }, pct(tick)));
    }
    targets.forEach((t, i) => {
      const share = clamp01(t.target_share);
      const x = `${share * 100}%`;
      const right = share > 0.55;
      chart.append(
        svg('line', { class: 'marker', x1: x, x2: x, y1: i * row + 4, y2: barTop + barHeight + 3 }),
        svg('text', {
          class: `marker-label status-${t.status}`, x, y: i * row + 15, dx: right ? -5 : 5,
          'text-anchor': right ? 'end' : 'start',
        }, `${date(t.deadline)} · ${t.strictly_above ? '>' : '≥'}${pct(t.target_share)} · `
          + STATUS[t.status]),
      );
    });
    const legend = el('ul', { class: 'targets' }, targets.map((t) => el('li', {}, [
      badge(t.status),
      ` Đến ${date(t.deadline)}: ${targetShare(t)} được chứng nhận`,
      t.needed > 0 ? ` — cần thêm ${num(t.needed)} người` : ' — đã đủ',
    ])));
    return el('article', { class: 'group' }, [
      el('h3', {}, [group.label, ' ', el('span', { class: 'big-rate', text: pct(rate) })]),
      el('div', { class: 'bar-wrap' }, chart),
      targets.length ? legend : el('p', { class: 'hint', text: 'Nhóm này chưa có chỉ tiêu.' }),
    ]);
  }

  function coverageTable(groups, asOf) {
    const head = ['Nhóm', 'Số người', 'Đã đăng ký học', 'Được chứng nhận', 'Tỉ lệ', 'Cần thêm (đến mốc)'];
    const rows = groups.map((g) => {
      const next = nearestTarget(g.targets, asOf);
      return el('tr', {}, [
        el('th', { scope: 'row', text: g.label }),
        el('td', { class: 'n', text: num(g.population) }),
        el('td', { class: 'n', text: num(g.enrolled) }),
        el('td', { class: 'n', text: num(g.certified) }),
        el('td', { class: 'n', text: pct(rateOf(g)) }),
        el('td', { class: 'n', text: next ? `${num(next.needed)} (${date(next.deadline)})` : '—' }),
      ]);
    });
    const caption = 'Số người theo nhóm; “cần thêm”: số người phải được chứng nhận thêm '
      + 'để đạt mốc chỉ tiêu gần nhất';
    return tableOf(caption, head, rows);
  }

  function tableOf(caption, head, rows) {
    return el('div', { class: 'table-wrap' }, el('table', {}, [
      el('caption', { text: caption }),
      el('thead', {}, el('tr', {}, head.map((h, i) => (
        el('th', { scope: 'col', class: i ? 'n' : null, text: h }))))),
      el('tbody', {}, rows),
    ]));
  }

  /* ---------- 2. hamlets ---------- */

  function renderHamlets(body, list) {
    if (!$('subtitle').textContent) setSubtitle('', list.as_of);
    if (!list.hamlets.length) { body.append(el('p', { text: MESSAGES.empty })); return; }
    const labels = new Map();
    for (const h of list.hamlets) {
      for (const g of h.groups) if (!labels.has(g.group)) labels.set(g.group, g.label);
    }
    const rows = list.hamlets.map((h) => {
      const byGroup = new Map(h.groups.map((g) => [g.group, g]));
      return el('tr', {}, [
        el('th', { scope: 'row', text: h.name }),
        ...[...labels.keys()].map((key) => {
          const g = byGroup.get(key);
          if (!g) return el('td', { class: 'cell', text: '—' });
          const next = nearestTarget(g.targets, h.as_of);
          const status = next ? next.status : 'none';
          return el('td', {
            class: `cell status-${status}`,
            title: `${h.name}, ${g.label}: ${num(g.certified)}/${num(g.population)} người` +
              (next ? `; mốc ${date(next.deadline)} ${targetShare(next)}, cần thêm ${num(next.needed)}` : ''),
          }, [
            el('span', { class: 'cell-rate', text: pct(rateOf(g)) }),
            el('span', { class: 'cell-status', text: next ? STATUS[status] : 'Chưa có chỉ tiêu' }),
            el('span', { class: 'cell-count', text: `${num(g.certified)}/${num(g.population)}` }),
          ]);
        }),
      ]);
    });
    body.append(
      el('p', { class: 'legend' }, ['Màu và chữ trong ô: tình trạng so với mốc chỉ tiêu gần nhất. ',
        ...Object.keys(STATUS).flatMap((s) => [badge(s), ' '])]),
      el('div', { class: 'table-wrap' }, el('table', { class: 'heat' }, [
        el('caption', { text: 'Tỉ lệ được chứng nhận theo thôn và nhóm (đã chứng nhận/số người)' }),
        el('thead', {}, el('tr', {}, [el('th', { scope: 'col', text: 'Thôn' }),
          ...[...labels.values()].map((label) => el('th', { scope: 'col', text: label }))])),
        el('tbody', {}, rows),
      ])),
    );
  }

  /* ---------- 3. lessons ---------- */

  function hbar(share, cls, label) {
    return svg('svg', { class: 'hbar', width: '100%', height: 16, role: 'img', 'aria-label': label }, [
      svg('rect', { class: 'track', x: 0, y: 0, width: '100%', height: 16, rx: 2 }),
      svg('rect', { class: cls, x: 0, y: 0, width: `${clamp01(share) * 100}%`, height: 16, rx: 2 }),
    ]);
  }

  function renderLessons(body, report) {
    if (!report.lessons.length) { body.append(el('p', { text: MESSAGES.empty })); return; }
    const most = Math.max(1, ...report.lessons.map((l) => l.started));
    const titles = new Map(report.lessons.map((l) => [l.lesson, l.title]));
    body.append(el('p', { class: 'legend' }, [
      el('span', { class: 'swatch started' }), ' Bắt đầu học  ',
      el('span', { class: 'swatch finished' }), ' Học xong',
    ]));
    body.append(el('div', { class: 'lessons' }, report.lessons.map((l) => el('article', { class: 'lesson' }, [
      el('h3', { text: l.title }),
      el('div', { class: 'funnel' }, [
        el('span', { text: 'Bắt đầu' }),
        hbar(l.started / most, 'started', `${num(l.started)} người bắt đầu`),
        el('span', { class: 'n', text: num(l.started) }),
        el('span', { text: 'Học xong' }),
        hbar(l.finished / most, 'finished', `${num(l.finished)} người học xong`),
        el('span', { class: 'n', text: num(l.finished) }),
      ]),
      el('p', { class: 'lesson-stats' }, [
        'Làm bài kiểm tra đạt: ', el('strong', { text: l.pass_rate === null ? 'chưa có' : pct(l.pass_rate) }),
        ' · Số lần làm bài trung bình: ', el('strong', { text: decimal(l.average_attempts) }),
      ]),
    ]))));

    body.append(el('h3', { class: 'subhead', text: 'Câu hỏi hay bị trả lời sai' }));
    if (!report.hardest.length) { body.append(el('p', { text: MESSAGES.empty })); return; }
    body.append(el('ol', { class: 'hardest' }, report.hardest.map((q) => el('li', {}, [
      el('p', { class: 'question', text: q.text }),
      el('p', { class: 'hint' }, `Bài: ${titles.get(q.lesson) || q.lesson} · ${num(q.answers)} lượt trả lời · `
        + `${pct(q.wrong_share)} trả lời sai`),
      el('ul', { class: 'wrong-options' }, q.wrong_options.map((o) => el('li', {}, [
        el('span', { class: 'option-text', text: `Phương án ${o.option}: ${o.text}` }),
        hbar(o.share, 'wrong', `${pct(o.share)} số lượt trả lời`),
        el('span', { class: 'n', text: pct(o.share) }),
      ]))),
    ]))));
  }

  /* ---------- 4. weekly trend ---------- */

  function niceScale(max, ticks) {
    const raw = Math.max(1, max) / ticks;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const norm = raw / magnitude;
    const step = Math.max(1, (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude);
    return { step, top: Math.max(step, Math.ceil(Math.max(1, max) / step) * step) };
  }

  function trendChart(weeks, width) {
    const height = 280;
    const m = { top: 26, right: 12, bottom: 46, left: 48 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const highest = Math.max(...weeks.map((w) => Math.max(w.new_learners, w.completions)));
    const { step, top } = niceScale(highest, 4);
    const y = (v) => m.top + plotH - (v / top) * plotH;
    const band = plotW / weeks.length;
    const cx = (i) => m.left + band * (i + 0.5);
    const chart = svg('svg', {
      class: 'trend-chart', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img',
      'aria-label': `Biểu đồ ${weeks.length} tuần: cột là người học mới, đường là lượt học xong bài. `
        + 'Bảng số liệu ở dưới.',
    });
    for (let v = 0; v <= top; v += step) {
      chart.append(
        svg('line', { class: v ? 'grid' : 'axis', x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }),
        svg('text', { class: 'tick', x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, num(v)),
      );
    }
    chart.append(svg('text', { class: 'axis-title', x: 4, y: 14 }, 'Số người / lượt'));
    const every = Math.ceil(weeks.length / Math.max(1, Math.floor(plotW / 46)));
    weeks.forEach((w, i) => {
      const barW = Math.max(2, band * 0.56);
      chart.append(svg('rect', {
        class: 'bar-new', x: cx(i) - barW / 2, y: y(w.new_learners), width: barW,
        height: Math.max(0, m.top + plotH - y(w.new_learners)),
      }, svg('title', {}, `Tuần từ ${date(w.start)}: ${num(w.new_learners)} người học mới`)));
      if ((weeks.length - 1 - i) % every === 0) { // the latest week always gets a label
        const [, mm, dd] = w.start.split('-');
        const at = { class: 'tick', x: cx(i), y: m.top + plotH + 18, 'text-anchor': 'middle' };
        chart.append(svg('text', at, `${dd}/${mm}`));
      }
    });
    chart.append(
      svg('polyline', {
        class: 'line-done', points: weeks.map((w, i) => `${cx(i)},${y(w.completions)}`).join(' '),
      }),
      ...weeks.map((w, i) => svg('circle', { class: 'dot-done', cx: cx(i), cy: y(w.completions), r: 4 },
        svg('title', {}, `Tuần từ ${date(w.start)}: ${num(w.completions)} lượt học xong bài`))),
      svg('text', { class: 'axis-title', x: m.left + plotW / 2, y: height - 6, 'text-anchor': 'middle' },
        'Tuần, tính từ ngày thứ Hai'),
    );
    return chart;
  }

  function drawTrend() {
    const holder = document.querySelector('#trend .chart-holder');
    if (!holder || !trendWeeks) return;
    const width = Math.max(300, Math.round(holder.clientWidth || 900));
    if (holder.dataset.width === String(width)) return;
    holder.dataset.width = String(width);
    holder.replaceChildren(trendChart(trendWeeks, width));
  }

  function renderTrend(body, trend) {
    trendWeeks = trend.weeks;
    if (!trend.weeks.length) { body.append(el('p', { text: MESSAGES.empty })); return; }
    const rows = trend.weeks.map((w) => el('tr', {}, [
      el('th', { scope: 'row', text: w.week }),
      el('td', { text: date(w.start) }),
      el('td', { class: 'n', text: num(w.new_learners) }),
      el('td', { class: 'n', text: num(w.completions) }),
    ]));
    body.append(
      el('p', { class: 'legend' }, [
        el('span', { class: 'swatch new' }), ' Người học mới  ',
        el('span', { class: 'swatch done' }), ' Lượt học xong bài',
      ]),
      el('div', { class: 'chart-holder' }),
      el('details', {}, [
        el('summary', { text: 'Xem bảng số liệu' }),
        tableOf('Số liệu theo tuần', ['Tuần', 'Từ ngày', 'Người học mới', 'Lượt học xong bài'], rows),
      ]),
    );
    drawTrend();
  }

  /* ---------- 5. quarterly report ---------- */

  function fileName(response, fallback) {
    const header = response.headers.get('Content-Disposition') || '';
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
    return match ? decodeURIComponent(match[1]) : fallback;
  }

  async function download(link) {
    const status = $('report-status');
    setMessage(status, 'Đang tải…');
    try {
      const response = await request(link.getAttribute('href'));
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const save = el('a', { href: url, download: fileName(response, link.dataset.download) });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      setMessage(status, 'Đã tải xong.');
    } catch (error) {
      if (error.status === 401) signOut(MESSAGES[401]);
      else setMessage(status, error.message || MESSAGES.network, true);
    }
  }

  /* ---------- start ---------- */

  function start() {
    $('signin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const typed = $('token').value.trim();
      if (!typed) {
        setMessage($('signin-error'), 'Hãy nhập mã truy cập.', true);
        return;
      }
      $('token').value = '';
      setToken(typed);
      load();
    });
    $('signout').addEventListener('click', () => signOut(''));
    $('reload').addEventListener('click', () => load());
    $('print').addEventListener('click', () => window.print());
    // On paper the weekly table is the only way to read exact numbers: open it for printing.
    window.addEventListener('beforeprint', () => {
      for (const details of document.querySelectorAll('details')) details.open = true;
    });
    for (const link of document.querySelectorAll('[data-download]')) {
      link.addEventListener('click', (event) => { event.preventDefault(); download(link); });
    }
    let pending = false;
    window.addEventListener('resize', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; drawTrend(); });
    });

    takeTokenFromFragment();
    if (token()) load();
    else showSignIn('');
  }

  start();
})();
