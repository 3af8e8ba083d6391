//! The OpenAPI document. Paths come from the handlers' `#[utoipa::path]` through
//! `utoipa-axum`'s router, so the document cannot list a route that does not exist; error
//! examples are rendered from [`ApiError`] itself, so they cannot drift from real answers.

use coda_jobs::Range;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::{ApiError, ErrorBody};

const JOB_ID: &str = "01JD6X1V9Q3ZK5T8N2M4P7R0SB";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coda",
        description = "Queue text-to-music generation jobs, watch them wait and run, download the WAV.\n\n\
            Every error answers `{\"error\":{\"code\",\"message\",\"field\"?}}`; branch on `code`.",
    ),
    tags(
        (name = "jobs", description = "Submit, inspect, cancel and download generation jobs"),
        (name = "queue", description = "The state of the line"),
        (name = "health", description = "Probes for orchestrators"),
    ),
    components(
        schemas(ErrorBody),
        responses(
            BadRequest, InvalidId, BadQuery, Unauthorized, Forbidden, JobNotFound, CancelConflict,
            AudioConflict, AudioExpired, PayloadTooLarge, UnsupportedMediaType, TooManyPending,
            Unavailable, QueueFullOrUnavailable, Internal,
        ),
    ),
)]
pub(crate) struct ApiDoc;

/// Declares an OpenAPI response component per error situation, with example bodies produced by
/// the same code that produces real answers.
macro_rules! error_responses {
    ($($name:ident($description:literal) => [$($example:expr),+ $(,)?];)*) => {$(
        pub(crate) struct $name;

        impl<'s> ToResponse<'s> for $name {
            fn response() -> (&'s str, RefOr<Response>) {
                (stringify!($name), error_response($description, vec![$($example),+]).into())
            }
        }
    )*};
}

error_responses! {
    BadRequest("The body is not an acceptable generation request; `field` names the culprit.") => [
        ApiError::InvalidField {
            field: "duration_seconds".into(),
            message: "duration_seconds must be between 1 and 30 seconds, got 45".into(),
        },
        ApiError::UnknownField {
            field: "lenght".into(),
            message: "unknown field `lenght`, expected one of `prompt`, `duration_seconds`, `top_k`, `top_p`, `temperature`, `guidance_scale`, `seed` at line 1 column 9".into(),
        },
        ApiError::MalformedJson("request body is not valid JSON: EOF while parsing an object at line 1 column 12".into()),
    ];
    InvalidId("The id in the path is not a job id.") => [ApiError::InvalidId { given: "not-a-job".into() }];
    BadQuery("A query parameter is out of range or of the wrong type.") => [
        ApiError::InvalidQuery { field: Some("limit".into()), message: "limit must be between 1 and 100, got 500".into() },
    ];
    Unauthorized("API keys are configured and the request carried none, or an unknown one.") => [ApiError::Unauthorized];
    Forbidden("The cancel token is missing or wrong.") => [ApiError::Forbidden];
    JobNotFound("No job has this id (or it expired).") => [ApiError::JobNotFound(JOB_ID.into())];
    CancelConflict("The job already finished.") => [
        ApiError::AlreadyFinished { id: JOB_ID.into(), status: "succeeded".into() },
    ];
    AudioConflict("The job has no audio (yet).") => [ApiError::AudioNotReady { id: JOB_ID.into(), status: "running".into() }];
    AudioExpired("The audio existed but was deleted by retention.") => [ApiError::AudioExpired(JOB_ID.into())];
    PayloadTooLarge("The request body exceeds the limit.") => [ApiError::BodyTooLarge { limit: crate::extract::BODY_LIMIT_BYTES }];
    UnsupportedMediaType("The body is not declared as JSON.") => [ApiError::UnsupportedMediaType];
    TooManyPending("This client already has as many unfinished jobs as allowed.") => [
        ApiError::ClientLimit { limit: 5, retry_after_seconds: 120 },
    ];
    Unavailable("Redis or the ledger cannot be reached.") => [ApiError::unavailable("redis: connection refused")];
    QueueFullOrUnavailable("The queue is full (the body tells the expected wait), or a dependency is down.") => [
        ApiError::QueueFull { retry_after_seconds: 300, expected_wait: Range { low: 300.0, high: 420.0 } },
        ApiError::unavailable("redis: connection refused"),
    ];
    Internal("An unexpected failure; details are in the server log.") => [ApiError::internal("example")];
}

fn error_response(description: &str, examples: Vec<ApiError>) -> Response {
    let schema = Ref::from_schema_name("ErrorBody");
    let retries = examples
        .iter()
        .any(|e| e.body().error.retry_after_seconds.is_some());
    let bodies: Vec<_> = examples.iter().map(|e| (e.code(), body_json(e))).collect();
    let content = match bodies.as_slice() {
        [(_, only)] => ContentBuilder::new()
            .schema(Some(schema))
            .example(Some(only.clone()))
            .build(),
        many => ContentBuilder::new()
            .schema(Some(schema))
            .examples_from_iter(many.iter().map(|(code, body)| {
                (
                    *code,
                    ExampleBuilder::new().value(Some(body.clone())).build(),
                )
            }))
            .build(),
    };
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    if retries {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    response.build()
}

fn body_json(error: &ApiError) -> serde_json::Value {
    serde_json::to_value(error.body()).expect("error bodies serialize")
}

/// Applied after the routes are collected (a derive-time modifier would see no paths).
/// Declares the bearer scheme and marks every `/api/v1` operation as accepting it (optional:
/// the server only demands it when `auth.api_keys` is set), with the 401 it then risks.
pub(crate) struct ApiKeySecurity;

const SCHEME: &str = "api_key";

impl Modify for ApiKeySecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Required on /api/v1 only when the server is configured with API keys",
                    ))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                operation.security = Some(vec![
                    SecurityRequirement::default(),
                    SecurityRequirement::new(SCHEME, Vec::<String>::new()),
                ]);
                operation
                    .responses
                    .responses
                    .entry("401".to_owned())
                    .or_insert_with(|| Ref::from_response_name("Unauthorized").into());
            }
        }
    }
}
