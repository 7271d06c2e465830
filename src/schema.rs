//! Diesel's view of the tables; kept in step with `migrations/` by hand.

diesel::table! {
    institutions (id) {
        id -> Uuid,
        name -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        country_code -> Text,
        city -> Nullable<Text>,
        website -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        full_name -> Text,
        role -> Text,
        institution_id -> Nullable<Uuid>,
        trainee_id -> Nullable<Uuid>,
        locale -> Text,
        disabled -> Bool,
        last_login_at -> Nullable<Timestamptz>,
        password_hash -> Nullable<Text>,
        token_version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Uuid,
        changes -> Jsonb,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        status_code -> Nullable<Int2>,
        headers -> Nullable<Jsonb>,
        body -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(users -> institutions (institution_id));

diesel::table! {
    notifications (id) {
        id -> Uuid,
        template -> Text,
        recipient -> Text,
        locale -> Text,
        payload -> Jsonb,
        dedupe_key -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        family_expires_at -> Timestamptz,
        rotated_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        email -> Text,
        role -> Text,
        institution_id -> Nullable<Uuid>,
        trainee_id -> Nullable<Uuid>,
        locale -> Text,
        invited_by -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        user_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    rate_limits (key, window_start) {
        key -> Text,
        window_start -> Timestamptz,
        hits -> Int4,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    users,
    audit_events,
    idempotency_keys,
    notifications,
    refresh_tokens,
    invitations,
    password_resets,
    login_failures,
    rate_limits
);
