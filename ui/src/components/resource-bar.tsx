// Reserved (or used) against capacity, as a bar with the numbers beside it.
export function ResourceBar({
  label,
  used,
  total,
  format,
}: {
  label: string;
  used: number;
  total: number;
  format: (value: number) => string;
}) {
  const percent = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  const level = percent >= 90 ? 'high' : percent >= 70 ? 'mid' : 'low';
  return (
    <div className="rbar" title={`${label}: ${format(used)} of ${format(total)} reserved`}>
      <div className="rbar-head">
        <span className="rbar-label">{label}</span>
        <span className="rbar-value">
          {format(used)} / {format(total)}
        </span>
      </div>
      <div
        className="rbar-track"
        role="meter"
        aria-label={`${label} reserved`}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={Math.min(used, total)}
      >
        <div className={`rbar-fill rbar-${level}`} style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
