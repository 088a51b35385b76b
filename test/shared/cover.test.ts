import { describe, expect, it } from 'vitest';
import { coverSvg, wrapTitle } from '../../src/shared/cover';

describe('generated covers', () => {
  const quake = { id: 'quake-3-arena', title: 'Quake III Arena', genres: ['FPS', 'Arena'] };

  it('is deterministic per id and differs between ids', () => {
    expect(coverSvg(quake)).toBe(coverSvg({ ...quake }));
    const other = coverSvg({ ...quake, id: 'quake-3-arena-2' });
    expect(other).not.toBe(coverSvg(quake));
    // The colours come from the id, not the title: a retitled game keeps its look.
    const fills = (svg: string) => svg.match(/hsl\([^)]*\)/g);
    expect(fills(coverSvg({ ...quake, title: 'Something else' }))).toEqual(fills(coverSvg(quake)));
    expect(fills(other)).not.toEqual(fills(coverSvg(quake)));
  });

  it('is a standalone SVG that shows the title and first genre', () => {
    const svg = coverSvg(quake);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('aria-label="Quake III Arena"');
    expect(svg).toContain('>Quake III</tspan>');
    expect(svg).toContain('>Arena</tspan>');
    expect(svg).toContain('>FPS<');
    expect(svg).not.toMatch(/<image|href=|<script/);
  });

  it('escapes markup in titles and genres', () => {
    const svg = coverSvg({ id: 'evil', title: '<script>alert("x")</script> & co', genres: ['<b>'] });
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&#60;script&#62;');
    expect(svg).toContain('&#38; co');
    // Every tag the generator wrote is closed or self-closed: a crude well-formedness check.
    const opened = (svg.match(/<(svg|defs|linearGradient|text|tspan)[\s>]/g) ?? []).length;
    const closed = (svg.match(/<\/(svg|defs|linearGradient|text|tspan)>/g) ?? []).length;
    expect(opened).toBe(closed);
  });

  it('copes without genres and with long titles', () => {
    const svg = coverSvg({ id: 'command-and-conquer-generals-zero-hour', title: 'Command & Conquer: Generals – Zero Hour Deluxe Anniversary Collection' });
    expect(svg).not.toContain('undefined');
    expect((svg.match(/<tspan/g) ?? []).length).toBeLessThanOrEqual(3);
  });

  it('wraps titles by words within the line budget', () => {
    expect(wrapTitle('Quake III Arena', 14, 3)).toEqual(['Quake III', 'Arena']);
    expect(wrapTitle('Teeworlds', 14, 3)).toEqual(['Teeworlds']);
    expect(wrapTitle('Supercalifragilisticexpialidocious', 14, 3)).toEqual(['Supercalifrag…']);
    const cut = wrapTitle('one two three four five six seven eight nine ten', 7, 2);
    expect(cut).toHaveLength(2);
    expect(cut[1]?.endsWith('…')).toBe(true);
    for (const line of cut) expect(line.length).toBeLessThanOrEqual(7);
  });
});
