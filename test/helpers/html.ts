// Reads rendered HTML the way a browser's selectors would, with Bun's HTMLRewriter (a real HTML parser),
// so page tests check structure (the hooks the browser tests rely on), not substrings.
export interface Found {
  readonly attributes: Readonly<Record<string, string>>;
  /** The element's text content. Attributes and text have the entities escapeHtml writes decoded. */
  readonly text: string;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const decode = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ENTITY[name] as string);

export function select(html: string, selector: string): Found[] {
  const found: Found[] = [];
  const open: { attributes: Record<string, string>; text: string }[] = [];
  const rewriter = new HTMLRewriter()
    .on(selector, {
      element(element) {
        const entry = { attributes: Object.fromEntries(element.attributes), text: '' };
        found.push(entry as Found);
        if (!element.selfClosing && element.canHaveContent) {
          open.push(entry);
          element.onEndTag(() => {
            open.splice(open.indexOf(entry), 1);
          });
        }
      },
    })
    .on('*', {
      text(chunk) {
        for (const entry of open) entry.text += chunk.text;
      },
    });
  rewriter.transform(html);
  // HTMLRewriter hands out raw source text: decode the entities the views write.
  return found.map((entry) => ({
    attributes: Object.fromEntries(Object.entries(entry.attributes).map(([name, value]) => [name, decode(value)])),
    text: decode(entry.text),
  }));
}

export function attribute(html: string, selector: string, name: string): string[] {
  return select(html, selector).map((found) => found.attributes[name] ?? '');
}
