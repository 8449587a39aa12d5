// NextAuth's counterpart of Sesame's /sign-in: a form calling
// signIn("credentials", { redirect: false }).
import { useState } from "react";
import { signIn } from "next-auth/react";
import { useRouter } from "next/router";

export default function SignIn() {
  const router = useRouter();
  const [error, setError] = useState(null);
  async function onSubmit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const res = await signIn("credentials", {
      email: form.get("email"),
      password: form.get("password"),
      redirect: false,
    });
    if (res && res.ok) router.push("/");
    else setError("Sign in failed. Check the details you provided are correct.");
  }
  return (
    <main>
      <h1>Sign in</h1>
      <form onSubmit={onSubmit}>
        <div role="alert">{error}</div>
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
