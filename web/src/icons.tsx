// Inline SVG icons: emoji glyphs depend on the fonts of the device (missing on many Linux
// desktops), and nothing is loaded from elsewhere. All are decorative (aria-hidden): the
// buttons carry the labels.
const common = { width: 24, height: 24, viewBox: '0 0 24 24', 'aria-hidden': true, fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' } as const;

export const CommentIcon = () => (
  <svg {...common}><path d="M4 5h16v11H9l-5 4z" /></svg>
);
export const SoundIcon = ({ on }: { on: boolean }) => (
  <svg {...common}>
    <path d="M3 9v6h4l5 4V5L7 9z" fill="currentColor" />
    {on ? <path d="M16 8.5a5 5 0 0 1 0 7M19 6a9 9 0 0 1 0 12" /> : <path d="M16 9l5 6M21 9l-5 6" />}
  </svg>
);
export const PlusIcon = () => (
  <svg {...common}><path d="M12 5v14M5 12h14" /></svg>
);
