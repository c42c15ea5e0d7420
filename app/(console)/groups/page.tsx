import { GroupAdmin } from "@/components/groups/group-admin";
import { listGroups, listPeople, requirePrincipal } from "@/server/auth";

export const metadata = { title: "Groups" };

export default async function GroupsPage() {
  await requirePrincipal("users:manage");
  const [groups, people] = await Promise.all([listGroups(), listPeople()]);
  return (
    <>
      <h1>Groups</h1>
      <p className="lead">
        Groups decide who may use which connection. Single sign-on groups follow the identity provider&apos;s
        groups claim.
      </p>
      <GroupAdmin groups={groups} people={people.map((p) => ({ id: p.id, email: p.email }))} />
    </>
  );
}
