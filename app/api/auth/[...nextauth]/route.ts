import type { NextRequest } from "next/server";
import NextAuth from "next-auth";
import { getAuthOptions } from "@/server/auth";
import { withBoundedAuthForm } from "@/server/http/route";

type Context = { params: Promise<{ nextauth: string[] }> };

const handler = withBoundedAuthForm((request: NextRequest, context: Context) =>
  NextAuth(request as never, context as never, getAuthOptions()),
);

export { handler as GET, handler as POST };
