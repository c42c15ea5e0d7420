// One labelled input of a GET filter form (the sessions list, the audit log): its value lives in the URL.
export function FilterField(props: {
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  type?: "text" | "date";
  placeholder?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        type={props.type ?? "text"}
        defaultValue={props.value ?? ""}
        placeholder={props.placeholder}
      />
    </div>
  );
}
