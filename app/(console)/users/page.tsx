import { CreateUserForm, UserTable } from "@/components/users/user-admin";
import { listGroups, listPeople, requirePrincipal } from "@/server/auth";

export const metadata = { title: "Users" };

export default async function UsersPage() {
  const principal = await requirePrincipal("users:manage");
  const [users, groups] = await Promise.all([listPeople(), listGroups()]);
  const groupNames = groups.map((g) => g.name);
  return (
    <>
      <h1>Users</h1>
      <p className="lead">
        People who sign in to the console. Members reach connections through their groups.
      </p>
      <UserTable users={users} allGroups={groupNames} selfId={principal.id} />
      <h2>Add a user</h2>
      <div className="panel">
        <CreateUserForm allGroups={groupNames} />
      </div>
    </>
  );
}
