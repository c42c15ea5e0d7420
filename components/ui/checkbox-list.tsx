/** A row of checkboxes sharing one form field name (groups, classes): FormData.getAll(name) reads the ticked ones. */
export function CheckboxList({
  name,
  options,
  checked = [],
  empty = "None yet.",
}: {
  name: string;
  options: readonly string[];
  checked?: readonly string[];
  empty?: string;
}) {
  return (
    <div className="checks">
      {options.length === 0 && <span className="muted small">{empty}</span>}
      {options.map((option) => (
        <label key={option}>
          <input type="checkbox" name={name} value={option} defaultChecked={checked.includes(option)} />{" "}
          {option}
        </label>
      ))}
    </div>
  );
}
