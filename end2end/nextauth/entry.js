// The official next-auth v4 browser client, bundled for the wire-compatibility
// test: it runs unchanged against Sesame's server.
import { signIn, signOut, getSession, getCsrfToken, getProviders } from "next-auth/react";

window.NextAuth = { signIn, signOut, getSession, getCsrfToken, getProviders };
