//! The routes of the built-in pages, for an app's `<Routes>`:
//! `/api/auth/signin`, `/api/auth/signout`, `/api/auth/error`,
//! `/api/auth/reset`, `/api/auth/signup`, `/api/auth/verify`,
//! `/api/auth/verify-request`, `/api/auth/second-factor` and
//! `/api/auth/security`.

use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, ParentRoute, Route},
    path, SsrMode,
};

use super::{
    DefaultSignInPage, DefaultSignUpPage, ErrorPage, ResetPage, SecondFactorPage, SecurityPage,
    SignOutPage, VerifyPage, VerifyRequestPage,
};

/// Routes the built-in pages; place it inside the app's `<Routes>`:
///
/// ```ignore
/// <Routes fallback=|| "Not found.">
///     <Route path=path!("/") view=HomePage />
///     <AuthRoutes />
/// </Routes>
/// ```
///
/// Every page renders in `SsrMode::Async`: resolved whole before the response
/// starts, so it works with JavaScript off.
#[component(transparent)]
pub fn AuthRoutes() -> impl leptos_router::MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/api/auth") view=Outlet ssr=SsrMode::Async>
            <Route path=path!("/signin") view=DefaultSignInPage ssr=SsrMode::Async />
            <Route path=path!("/signout") view=SignOutPage ssr=SsrMode::Async />
            <Route path=path!("/error") view=ErrorPage ssr=SsrMode::Async />
            <Route path=path!("/reset") view=ResetPage ssr=SsrMode::Async />
            <Route path=path!("/signup") view=DefaultSignUpPage ssr=SsrMode::Async />
            <Route path=path!("/verify") view=VerifyPage ssr=SsrMode::Async />
            <Route path=path!("/verify-request") view=VerifyRequestPage ssr=SsrMode::Async />
            <Route path=path!("/second-factor") view=SecondFactorPage ssr=SsrMode::Async />
            <Route path=path!("/security") view=SecurityPage ssr=SsrMode::Async />
        </ParentRoute>
    }
    .into_inner()
}
