/**
 * Generated game covers: the catalog ships no artwork (box art is copyrighted), so every game
 * gets a deterministic SVG whose colours and shapes come from a hash of its id. The same id
 * always yields the same bytes, in the renderer, the web UI and the CLI alike. Pure string
 * code: no DOM, no Node.
 */

export interface CoverSubject {
  id: string;
  title: string;
  genres?: readonly string[];
}

export const COVER_WIDTH = 300;
export const COVER_HEIGHT = 400;

export function coverSvg(entry: CoverSubject): string {
  const random = seededRandom(fnv1a(entry.id));
  const hue = Math.floor(random() * 360);
  // A second hue 40-140 degrees away keeps the pair contrasting but never clashing.
  const accentHue = (hue + 40 + Math.floor(random() * 100)) % 360;
  const background = hsl(hue, 55, 18);
  const backgroundEnd = hsl(accentHue, 60, 30);
  const gradientId = `g-${fnv1a(entry.id).toString(16)}`;

  const shapes: string[] = [];
  const count = 5 + Math.floor(random() * 5);
  for (let i = 0; i < count; i++) shapes.push(shape(random, random() < 0.5 ? hue : accentHue));

  const lines = wrapTitle(entry.title, 14, 3);
  const fontSize = lines.some((line) => line.length > 11) ? 30 : 36;
  const lineHeight = Math.round(fontSize * 1.15);
  const titleTop = COVER_HEIGHT - 40 - lineHeight * (lines.length - 1);
  const title = lines
    .map((line, i) => `<tspan x="24" y="${titleTop + i * lineHeight}">${escapeXml(line)}</tspan>`)
    .join('');
  const genre = entry.genres?.[0];
  const genreText = genre
    ? `<text x="24" y="44" font-family="sans-serif" font-size="16" letter-spacing="2" fill="${hsl(accentHue, 80, 80)}">${escapeXml(genre.toUpperCase())}</text>`
    : '';

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${COVER_WIDTH} ${COVER_HEIGHT}" width="${COVER_WIDTH}" height="${COVER_HEIGHT}" role="img" aria-label="${escapeXml(entry.title)}">`,
    `<defs><linearGradient id="${gradientId}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${background}"/><stop offset="1" stop-color="${backgroundEnd}"/></linearGradient></defs>`,
    `<rect width="${COVER_WIDTH}" height="${COVER_HEIGHT}" fill="url(#${gradientId})"/>`,
    ...shapes,
    // A dark band under the title keeps it readable whatever shapes landed behind it.
    `<rect x="0" y="${titleTop - lineHeight - 8}" width="${COVER_WIDTH}" height="${COVER_HEIGHT - titleTop + lineHeight + 8}" fill="#000" fill-opacity="0.45"/>`,
    genreText,
    `<text font-family="sans-serif" font-weight="bold" font-size="${fontSize}" fill="#fff">${title}</text>`,
    '</svg>',
  ].join('');
}

function shape(random: () => number, hue: number): string {
  const x = Math.round(random() * COVER_WIDTH);
  const y = Math.round(random() * COVER_HEIGHT * 0.7);
  const size = Math.round(30 + random() * 120);
  const fill = hsl((hue + Math.floor(random() * 30)) % 360, 70, 45 + Math.floor(random() * 25));
  const opacity = (0.25 + random() * 0.45).toFixed(2);
  const kind = Math.floor(random() * 3);
  if (kind === 0) return `<circle cx="${x}" cy="${y}" r="${Math.round(size / 2)}" fill="${fill}" fill-opacity="${opacity}"/>`;
  if (kind === 1) {
    const angle = Math.floor(random() * 90);
    return `<rect x="${x - size / 2}" y="${y - size / 2}" width="${size}" height="${size}" transform="rotate(${angle} ${x} ${y})" fill="${fill}" fill-opacity="${opacity}"/>`;
  }
  const points = [
    [x, y - size / 2],
    [x + size / 2, y + size / 2],
    [x - size / 2, y + size / 2],
  ]
    .map(([px, py]) => `${Math.round(px as number)},${Math.round(py as number)}`)
    .join(' ');
  return `<polygon points="${points}" fill="${fill}" fill-opacity="${opacity}"/>`;
}

/** Greedy word wrap; an over-long last line is cut with an ellipsis so the title never overflows. */
export function wrapTitle(title: string, maxChars: number, maxLines: number): string[] {
  const words = title.trim().split(/\s+/).filter((word) => word !== '');
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (candidate.length <= maxChars || current === '') current = candidate;
    else {
      lines.push(current);
      current = word;
    }
  }
  if (current !== '') lines.push(current);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1] as string}…`;
    return kept.map((line) => truncate(line, maxChars));
  }
  return lines.map((line) => truncate(line, maxChars));
}

function truncate(line: string, maxChars: number): string {
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`;
}

function hsl(hue: number, saturation: number, lightness: number): string {
  // Comma syntax: understood by every SVG renderer, not only CSS Color 4 ones.
  return `hsl(${hue}, ${saturation}%, ${lightness}%)`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** FNV-1a 32-bit: tiny, stable across platforms, good enough to spread ids over colours. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a deterministic sequence in [0, 1) from one 32-bit seed. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
