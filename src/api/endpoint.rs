//! [`endpoint!`](crate::endpoint): one way to declare an operation that
//! only a signed-in caller may use.

/// Declares an operation for signed-in callers: its route, its OpenAPI
/// documentation and the role table's check, in a line or two before the
/// handler.
///
/// ```text
/// endpoint! {
///     /// Reads one email of the outbox.
///     get "/notifications/{id}", tag = "notifications", params(("id" = Uuid, Path)),
///     ok((status = 200, body = Notification)), fails[404], may = Notification Read;
///     async fn get_notification(call: Call, id: web::Path<Uuid>) -> Answer { .. }
/// }
/// ```
///
/// Every such operation takes the bearer scheme and may answer 401 (no
/// valid token) and 403 (the role may not): both are listed with the
/// `fails` given (a status, `status: "why"`, or either followed by more
/// of the response in parentheses, such as its headers). `may = Resource
/// Action` asks the role table before the handler's body runs, `as scope`
/// keeping the scope it grants; the handler's first argument is the
/// [`Call`]. The calling module imports actix's route attribute of the
/// method.
///
/// `public post "/auth/..."` declares an operation open to anyone, with a
/// JSON body: the handler names the state, the request and the body it
/// takes (`async fn login(state, req, body)`).
///
/// [`Call`]: crate::auth::Call
#[macro_export]
macro_rules! endpoint {
    (
        $(#[$meta:meta])*
        $method:ident $path:literal, tag = $tag:literal
        $(, body = $req:ty)?
        $(, params($($param:tt)*))?
        , ok($($ok:tt)*)
        $(, fails[$($code:literal $(: $why:literal)? $(($($more:tt)*))?),* $(,)?])?
        $(, may = $resource:ident $action:ident $(as $scope:ident)?)?;
        $vis:vis async fn $name:ident($call:ident: Call $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty $body:block
    ) => {
        $(#[$meta])*
        #[utoipa::path(
            tag = $tag,
            $(request_body = $req,)?
            $(params($($param)*),)?
            responses(
                $($ok)*,
                (status = 401, body = $crate::error::Problem),
                (status = 403, body = $crate::error::Problem),
                $($(
                    (status = $code, body = $crate::error::Problem $(, description = $why)? $(, $($more)*)?),
                )*)?
            ),
            security(("bearer" = []))
        )]
        #[$method($path)]
        $vis async fn $name($call: $crate::auth::Call $(, $arg: $ty)*) -> $ret {
            $($crate::endpoint!(@may $call, $resource, $action $(, $scope)?);)?
            $body
        }
    };
    (
        $(#[$meta:meta])*
        public $method:ident $path:literal, tag = $tag:literal, body = $req:ty,
        ok($($ok:tt)*), fails[$($code:literal $(: $why:literal)? $(($($more:tt)*))?),* $(,)?];
        async fn $name:ident($state:ident, $http:ident, $body:ident) $block:block
    ) => {
        $(#[$meta])*
        #[utoipa::path(
            tag = $tag,
            request_body = $req,
            responses(
                $($ok)*,
                $((status = $code, body = $crate::error::Problem $(, description = $why)? $(, $($more)*)?),)*
            )
        )]
        #[$method($path)]
        async fn $name(
            $state: actix_web::web::Data<$crate::state::AppState>,
            $http: actix_web::HttpRequest,
            $body: actix_web::web::Json<$req>,
        ) -> $crate::api::Answer $block
    };
    (@may $call:ident, $resource:ident, $action:ident) => {
        $crate::endpoint!(@may $call, $resource, $action, _);
    };
    (@may $call:ident, $resource:ident, $action:ident, $scope:tt) => {
        let $scope = $crate::auth::policy::may(
            &$call.ctx.caller,
            $crate::auth::policy::Resource::$resource,
            $crate::auth::policy::Action::$action,
        )?;
    };
}
