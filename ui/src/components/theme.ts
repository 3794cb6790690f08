// Chart colours follow the page's light or dark scheme: read from the CSS variables and
// re-read when the system's scheme changes.
import { useEffect, useState } from 'react';

export interface ChartColors {
  cpu: string;
  memory: string;
  disk: string;
  tasks: string;
  grid: string;
  text: string;
  surface: string;
}

function read(): ChartColors {
  const style = typeof window === 'undefined' ? undefined : getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => style?.getPropertyValue(name).trim() || fallback;
  return {
    cpu: v('--chart-cpu', '#2563eb'),
    memory: v('--chart-memory', '#d97706'),
    disk: v('--chart-disk', '#059669'),
    tasks: v('--chart-tasks', '#7c3aed'),
    grid: v('--border', '#e5e7eb'),
    text: v('--muted', '#6b7280'),
    surface: v('--surface', '#ffffff'),
  };
}

export function useChartColors(): ChartColors {
  const [colors, setColors] = useState(read);
  useEffect(() => {
    const media = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!media) return;
    const update = () => setColors(read());
    media.addEventListener('change', update);
    return () => media.removeEventListener('change', update);
  }, []);
  return colors;
}
