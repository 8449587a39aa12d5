import { useSession } from "next-auth/react";

export default function Home() {
  const { data, status } = useSession();
  return <main data-testid="status">{status === "authenticated" ? `Signed in as ${data.user.email}` : status}</main>;
}
