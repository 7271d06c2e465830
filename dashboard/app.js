// Meridian's dashboard. It speaks only to the public REST API, with the
// signed-in user's own token, so it shows exactly what that role may read.
// The access token lives in sessionStorage (this tab only, 15 minutes at
// most); the refresh token lives in this page's memory only, never in
// storage. Filters and language are kept in the URL, so a view is a link.
'use strict';

const T = {
  en: {
    title: 'Programme dashboard', language: 'Language', signIn: 'Sign in', signOut: 'Sign out',
    email: 'Email', password: 'Password', programme: 'Programme', allProgrammes: 'All programmes',
    from: 'From', to: 'To', year: 'Exchange year', apply: 'Apply', overview: 'Overview',
    expired: 'Your session has expired. Please sign in again.',
    refused: 'Your role may not read programme statistics. The dashboard is for administrators, coordinators and viewers.',
    notFound: 'Programme not found. Check the link, or choose another programme.',
    csv: 'Download CSV', table: 'Show as a table', empty: 'Nothing to show for these filters.',
    choose: 'Choose a programme to see the fill of its cohorts.', suppressed: 'hidden: too few to show',
    downloaded: 'Downloaded', total: 'Total', seats: 'Seats taken', capacity: 'Capacity',
    institutions: 'Institutions', programs: 'Programmes', trainees: 'Trainees', enrollments: 'Enrollments',
    completion: 'Completion rate', certificates: 'Certificates', ventures: 'Ventures', jobs: 'Jobs created',
    funding: 'Funding raised', exchanges: 'Exchanges',
    byCountry: 'Enrollments by country', byRegion: 'Enrollments by region',
    gender: 'Gender split per enrollment status', fill: 'Cohort fill: seats against capacity',
    flows: 'Exchange flows by country pair', incubators: 'Incubator outcomes: ventures by status',
    jobsFunding: 'Jobs created and funding raised',
  },
  fr: {
    title: 'Tableau de bord des programmes', language: 'Langue', signIn: 'Se connecter', signOut: 'Se déconnecter',
    email: 'Courriel', password: 'Mot de passe', programme: 'Programme', allProgrammes: 'Tous les programmes',
    from: 'Du', to: 'Au', year: 'Année des échanges', apply: 'Appliquer', overview: 'Vue d’ensemble',
    expired: 'Votre session a expiré. Veuillez vous reconnecter.',
    refused: 'Votre rôle ne permet pas de lire les statistiques des programmes. Le tableau de bord est destiné aux administrateurs, coordinateurs et observateurs.',
    notFound: 'Programme introuvable. Vérifiez le lien ou choisissez un autre programme.',
    csv: 'Télécharger le CSV', table: 'Afficher sous forme de tableau', empty: 'Rien à afficher pour ces filtres.',
    choose: 'Choisissez un programme pour voir le remplissage de ses cohortes.', suppressed: 'masqué : trop peu pour être affiché',
    downloaded: 'Téléchargé', total: 'Total', seats: 'Places occupées', capacity: 'Capacité',
    institutions: 'Établissements', programs: 'Programmes', trainees: 'Stagiaires', enrollments: 'Inscriptions',
    completion: 'Taux d’achèvement', certificates: 'Certificats', ventures: 'Entreprises', jobs: 'Emplois créés',
    funding: 'Fonds levés', exchanges: 'Échanges',
    byCountry: 'Inscriptions par pays', byRegion: 'Inscriptions par région',
    gender: 'Répartition par genre selon le statut', fill: 'Remplissage des cohortes : places occupées et capacité',
    flows: 'Flux d’échanges par paire de pays', incubators: 'Résultats des incubateurs : entreprises par statut',
    jobsFunding: 'Emplois créés et fonds levés',
  },
  ar: {
    title: 'لوحة متابعة البرامج', language: 'اللغة', signIn: 'تسجيل الدخول', signOut: 'تسجيل الخروج',
    email: 'البريد الإلكتروني', password: 'كلمة المرور', programme: 'البرنامج', allProgrammes: 'كل البرامج',
    from: 'من', to: 'إلى', year: 'سنة التبادل', apply: 'تطبيق', overview: 'نظرة عامة',
    expired: 'انتهت جلستك. يرجى تسجيل الدخول من جديد.',
    refused: 'لا يسمح دورك بقراءة إحصاءات البرامج. هذه اللوحة مخصّصة للمشرفين والمنسّقين والمراقبين.',
    notFound: 'البرنامج غير موجود. تحقّق من الرابط أو اختر برنامجًا آخر.',
    csv: 'تنزيل CSV', table: 'عرض كجدول', empty: 'لا شيء لعرضه بهذه المرشّحات.',
    choose: 'اختر برنامجًا لرؤية امتلاء أفواجه.', suppressed: 'مخفي: العدد أقل من أن يُعرض',
    downloaded: 'تم التنزيل', total: 'المجموع', seats: 'المقاعد المشغولة', capacity: 'السعة',
    institutions: 'المؤسسات', programs: 'البرامج', trainees: 'المتدرّبون', enrollments: 'التسجيلات',
    completion: 'معدّل الإتمام', certificates: 'الشهادات', ventures: 'المشاريع الناشئة', jobs: 'الوظائف المستحدثة',
    funding: 'التمويل المحصّل', exchanges: 'التبادلات',
    byCountry: 'التسجيلات حسب البلد', byRegion: 'التسجيلات حسب المنطقة',
    gender: 'التوزيع حسب الجنس لكل حالة تسجيل', fill: 'امتلاء الأفواج: المقاعد المشغولة مقابل السعة',
    flows: 'تدفّقات التبادل حسب زوج البلدين', incubators: 'نتائج الحاضنات: المشاريع حسب الحالة',
    jobsFunding: 'الوظائف المستحدثة والتمويل المحصّل',
  },
};
const WORDS = {
  fr: { nominated: 'proposé', accepted: 'accepté', waitlisted: 'en liste d’attente', rejected: 'refusé', withdrawn: 'retiré', completed: 'terminé', not_completed: 'non terminé', female: 'femmes', male: 'hommes', non_binary: 'non binaire', undisclosed: 'non précisé' },
  ar: { nominated: 'مرشّح', accepted: 'مقبول', waitlisted: 'على قائمة الانتظار', rejected: 'مرفوض', withdrawn: 'منسحب', completed: 'أتمّ', not_completed: 'لم يُتمّ', female: 'إناث', male: 'ذكور', non_binary: 'غير ثنائي', undisclosed: 'غير مصرّح' },
};

const $ = (id) => document.getElementById(id);
const url = new URL(location.href);
const view = url.searchParams;
let lang = T[view.get('lang')] ? view.get('lang') : 'en';
let refreshToken = null;
let shown = 0;

const t = (key) => T[lang][key] || T.en[key];
const word = (w) => (WORDS[lang] && WORDS[lang][w]) || w.replace(/_/g, ' ');
const num = (n) => (n === null || n === undefined ? '–' : new Intl.NumberFormat(lang).format(n));
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function applyLanguage() {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr';
  document.title = t('title');
  document.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  $('lang').value = lang;
}

function say(text) {
  const m = $('message');
  m.textContent = text || '';
  m.hidden = !text;
}

// --- Tokens -------------------------------------------------------------

function access() {
  try {
    const kept = JSON.parse(sessionStorage.getItem('meridian.access') || 'null');
    return kept && kept.until > Date.now() ? kept.token : null;
  } catch (_) { return null; }
}

function keep(pair) {
  sessionStorage.setItem('meridian.access', JSON.stringify({
    token: pair.access_token, until: Date.now() + (pair.expires_in - 30) * 1000,
  }));
  refreshToken = pair.refresh_token;
}

async function problem(res) {
  try { return (await res.json()).title || res.statusText; } catch (_) { return res.statusText; }
}

class Refused extends Error {}
class Missing extends Error {}

async function refresh() {
  if (!refreshToken) return false;
  const res = await fetch('/api/v1/auth/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  if (!res.ok) { refreshToken = null; return false; }
  keep(await res.json());
  return true;
}

// GET on the API; a 401 refreshes once, then ends the session.
async function api(path, accept = 'application/json', again = true) {
  const token = access();
  if (!token && !(await refresh())) { expire(); throw new Refused(t('expired')); }
  const res = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${access()}`, Accept: accept } });
  if (res.status === 401) {
    if (again && (await refresh())) return api(path, accept, false);
    expire();
    throw new Refused(t('expired'));
  }
  if (res.status === 403) throw new Refused(t('refused'));
  if (res.status === 404) throw new Missing(await problem(res));
  if (!res.ok) throw new Error(await problem(res));
  return accept === 'text/csv' ? res.blob() : res.json();
}

function expire() {
  sessionStorage.removeItem('meridian.access');
  refreshToken = null;
  showSignIn(t('expired'));
}

function showSignIn(message) {
  $('board').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  say(message);
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: $('email').value, password: $('password').value }),
  });
  if (!res.ok) { say(await problem(res)); return; }
  keep(await res.json());
  $('password').value = '';
  start();
});

$('signout').addEventListener('click', async () => {
  if (refreshToken) {
    await fetch('/api/v1/auth/logout', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    }).catch(() => {});
  }
  sessionStorage.removeItem('meridian.access');
  refreshToken = null;
  showSignIn('');
});

// --- The view in the URL --------------------------------------------------

function query(extra = {}) {
  const q = new URLSearchParams();
  if (view.get('program')) q.set('program_id', view.get('program'));
  if (view.get('from')) q.set('from', view.get('from'));
  if (view.get('to')) q.set('to', view.get('to'));
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function remember() {
  history.replaceState(null, '', `${url.pathname}?${view.toString()}`);
}

$('lang').addEventListener('change', () => {
  lang = $('lang').value;
  view.set('lang', lang);
  remember();
  applyLanguage();
  if (!$('board').hidden) load();
});

$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  for (const k of ['program', 'from', 'to', 'year']) {
    if ($(k).value) view.set(k, $(k).value); else view.delete(k);
  }
  remember();
  load();
});

// --- Charts ---------------------------------------------------------------

// Horizontal bars, one row per item, each made of parts (a stack); drawn
// right to left in Arabic. Each chart also has its table.
function bars(items, names, label) {
  const rtl = document.documentElement.dir === 'rtl';
  const W = 720, row = 24, labelW = 200, room = W - labelW - 90;
  const max = Math.max(1, ...items.map((i) => i.parts.reduce((a, p) => a + (p || 0), 0)));
  let svg = `<svg viewBox="0 0 ${W} ${items.length * row + 4}" direction="ltr" role="img" aria-label="${esc(label)}">`;
  items.forEach((it, k) => {
    const y = k * row + 2;
    let at = 0;
    svg += `<text x="${rtl ? W - labelW + 8 : labelW - 8}" y="${y + 16}" text-anchor="${rtl ? 'start' : 'end'}">${esc(it.label)}</text>`;
    it.parts.forEach((p, j) => {
      const w = (room * (p || 0)) / max;
      const x = rtl ? W - labelW - at - w : labelW + at;
      const free = it.free && j === it.parts.length - 1;
      svg += `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 8}" fill="${free ? '#fff' : COLORS[j % COLORS.length]}" stroke="${free ? '#374151' : 'none'}"></rect>`;
      at += w;
    });
    const value = it.text || (it.suppressed ? '–' : num(it.parts.reduce((a, p) => a + (p || 0), 0)));
    svg += `<text x="${rtl ? W - labelW - at - 6 : labelW + at + 6}" y="${y + 16}" text-anchor="${rtl ? 'end' : 'start'}">${esc(value)}</text>`;
  });
  svg += '</svg>';
  const legend = names.length > 1
    ? `<ul class="legend">${names.map((n, j) => `<li><i class="${n.free ? 'free' : `c${j % COLORS.length}`}"></i>${esc(n.name || n)}</li>`).join('')}</ul>`
    : '';
  return legend + svg;
}
const COLORS = ['#1d4ed8', '#b45309', '#047857', '#7e22ce', '#be123c', '#0e7490', '#374151'];

function table(head, rows) {
  const cell = (c) => (typeof c === 'number' || c === null ? `<td class="n">${num(c)}</td>` : `<td>${esc(c)}</td>`);
  return `<details><summary>${esc(t('table'))}</summary><table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>`
    + `<tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table></details>`;
}

// The charts: where each reads, and how it draws what it read.
const CHARTS = [
  { id: 'country', title: 'byCountry', path: () => `/stats/enrollments${query({ group_by: 'country' })}`, draw: groups },
  { id: 'region', title: 'byRegion', path: () => `/stats/enrollments${query({ group_by: 'region' })}`, draw: groups },
  { id: 'gender', title: 'gender', path: () => `/stats/enrollments${query({ group_by: 'gender' })}`, draw: genders },
  { id: 'fill', title: 'fill', path: () => (view.get('program') ? `/cohorts?program_id=${encodeURIComponent(view.get('program'))}&limit=200&sort=code` : null), draw: fill },
  { id: 'flows', title: 'flows', path: () => `/stats/exchanges/flows${view.get('year') ? `?year=${encodeURIComponent(view.get('year'))}` : ''}`, draw: flows },
  { id: 'incubators', title: 'incubators', path: () => '/stats/incubators', draw: incubators },
];

function groups(data, label) {
  const items = data.items.map((g) => ({ label: g.label || g.key, parts: [g.total], suppressed: g.suppressed }));
  return bars(items, [t('total')], label)
    + table([label, t('total')], data.items.map((g) => [g.label || g.key, g.suppressed && g.total === null ? t('suppressed') : g.total]));
}

function genders(data, label) {
  const statuses = [...new Set(data.items.flatMap((g) => Object.keys(g.by_status)))];
  const items = statuses.map((s) => ({ label: word(s), parts: data.items.map((g) => g.by_status[s]) }));
  return bars(items, data.items.map((g) => word(g.key)), label)
    + table(['', ...data.items.map((g) => word(g.key))], statuses.map((s) => [word(s), ...data.items.map((g) => g.by_status[s])]));
}

function fill(data, label) {
  const items = data.items.map((c) => ({
    label: c.code, parts: [c.seats_taken, Math.max(0, c.capacity - c.seats_taken)], free: true,
    text: `${num(c.seats_taken)} / ${num(c.capacity)}`,
  }));
  return bars(items, [t('seats'), { name: t('capacity'), free: true }], label)
    + table(['', t('seats'), t('capacity')], data.items.map((c) => [`${c.code} · ${c.title}`, c.seats_taken, c.capacity]));
}

function flows(data, label) {
  const arrow = document.documentElement.dir === 'rtl' ? ' ← ' : ' → ';
  const items = data.items.map((f) => ({ label: f.from_country + arrow + f.to_country, parts: [f.total], suppressed: f.suppressed }));
  return bars(items, [t('total')], label)
    + table(['', t('total')], data.items.map((f) => [f.from_country + arrow + f.to_country, f.total]));
}

function incubators(data, label) {
  const statuses = [...new Set(data.items.flatMap((i) => Object.keys(i.ventures.by_status)))];
  const items = data.items.map((i) => ({ label: i.name, parts: statuses.map((s) => i.ventures.by_status[s]) }));
  const money = new Intl.NumberFormat(lang, { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
  return bars(items, statuses.map(word), label)
    + `<h3>${esc(t('jobsFunding'))}</h3>`
    + table(['', t('ventures'), t('jobs'), t('funding')],
      data.items.map((i) => [i.name, i.ventures.total, i.jobs_created, money.format(Number(i.funding_raised_usd))]));
}

async function download(chart, button) {
  const path = chart.path();
  const blob = await api(path, 'text/csv');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `meridian-${chart.id}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  button.dataset.done = String(blob.size);
  button.setAttribute('aria-label', `${t('csv')}: ${t('downloaded')} (${blob.size} B)`);
}

function section(chart) {
  const s = document.createElement('section');
  s.className = 'chart';
  s.id = `chart-${chart.id}`;
  s.setAttribute('aria-labelledby', `h-${chart.id}`);
  s.innerHTML = `<div class="head"><h2 id="h-${chart.id}">${esc(t(chart.title))}</h2>`
    + `<button type="button" class="plain">${esc(t('csv'))}</button></div><div class="body" aria-live="polite"></div>`;
  const button = s.querySelector('button');
  button.addEventListener('click', () => download(chart, button).catch((e) => failed(s, e)));
  return s;
}

function failed(s, e) {
  if (e instanceof Refused) return;
  s.querySelector('.body').innerHTML = `<p class="error" role="alert">${esc(e.message)}</p>`;
}

async function drawChart(chart, s) {
  const path = chart.path();
  s.querySelector('button').hidden = !path;
  const body = s.querySelector('.body');
  if (!path) { body.textContent = t('choose'); return; }
  try {
    const data = await api(path);
    body.innerHTML = data.items.length ? chart.draw(data, t(chart.title)) : `<p>${esc(t('empty'))}</p>`;
    if (!shown) { shown = performance.now(); document.body.dataset.firstChart = String(Math.round(shown)); }
  } catch (e) { failed(s, e); }
}

// --- The board --------------------------------------------------------------

const TILES = [
  ['institutions', (o) => o.institutions], ['programs', (o) => o.programs], ['trainees', (o) => o.trainees],
  ['enrollments', (o) => o.enrollments.total], ['completion', (o) => o.completion_rate.rate, 'percent'],
  ['certificates', (o) => o.certificates], ['ventures', (o) => o.ventures.total], ['jobs', (o) => o.jobs_created],
  ['funding', (o) => Number(o.funding_raised_usd), 'currency'], ['exchanges', (o) => o.exchanges.total],
];

function tiles(o) {
  $('tiles').innerHTML = TILES.map(([key, pick, style]) => {
    const v = pick(o);
    const f = style === 'percent' ? new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 })
      : style === 'currency' ? new Intl.NumberFormat(lang, { style: 'currency', currency: 'USD', maximumFractionDigits: 0 })
        : new Intl.NumberFormat(lang);
    const text = v === null || v === undefined ? '–' : f.format(v);
    return `<div class="tile" data-key="${key}" data-value="${v ?? ''}"><span class="num">${esc(text)}</span><span class="lab">${esc(t(key))}</span></div>`;
  }).join('');
}

async function programmes() {
  const select = $('program');
  if (select.options.length > 1) return;
  const page = await api('/programs?limit=200&sort=code');
  for (const p of page.items) select.add(new Option(`${p.code} · ${p.title}`, p.id));
}

async function load() {
  say('');
  for (const k of ['program', 'from', 'to', 'year']) $(k).value = view.get(k) || '';
  try {
    const chosen = view.get('program');
    if (chosen) {
      try {
        await api(`/programs/${encodeURIComponent(chosen)}`);
      } catch (e) {
        if (e instanceof Missing) { $('board').hidden = true; say(t('notFound')); return; }
        throw e;
      }
    }
    // The tiles and every chart are asked for at once: one round trip on a
    // slow link, not seven.
    const charts = $('charts');
    charts.textContent = '';
    const drawn = CHARTS.map((chart) => {
      const s = section(chart);
      charts.append(s);
      return drawChart(chart, s);
    });
    tiles(await api(`/stats/overview${query()}`));
    $('board').hidden = false;
    programmes().then(() => { $('program').value = chosen || ''; }).catch(() => {});
    await Promise.all(drawn);
  } catch (e) {
    $('board').hidden = true;
    if (!$('signin').hidden) return;
    say(e.message);
  }
}

function start() {
  $('signin').hidden = true;
  $('signout').hidden = false;
  load();
}

applyLanguage();
if (access()) start();
else showSignIn(sessionStorage.getItem('meridian.access') ? t('expired') : '');
