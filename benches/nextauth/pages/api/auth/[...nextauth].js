// NextAuth v4 with the credentials provider and JWT sessions (its default for
// credentials), signing in the same demo user as Sesame's `make run`.
import NextAuth from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { scryptSync, timingSafeEqual, randomBytes } from "node:crypto";

const DEMO = { id: "1", name: "Demo User", email: "demo@example.com" };
const salt = randomBytes(16);
const stored = scryptSync("open sesame, demo", salt, 32);

export const authOptions = {
  secret: process.env.NEXTAUTH_SECRET,
  session: { strategy: "jwt" },
  pages: { signIn: "/sign-in" },
  providers: [
    CredentialsProvider({
      name: "Credentials",
      credentials: { email: { type: "email" }, password: { type: "password" } },
      async authorize(credentials) {
        if (!credentials || credentials.email !== DEMO.email) return null;
        const given = scryptSync(String(credentials.password), salt, 32);
        return timingSafeEqual(given, stored) ? DEMO : null;
      },
    }),
  ],
};

export default NextAuth(authOptions);
