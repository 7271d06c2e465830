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
    deletions (id) {
        id -> Uuid,
        kind -> Text,
        deleted_at -> Timestamptz,
        institution_ids -> Array<Uuid>,
        trainee_ids -> Array<Uuid>,
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
    login_attempts (email) {
        email -> Text,
        window_start -> Timestamptz,
        n -> Int4,
    }
}

diesel::table! {
    rate_limits (key, window_start) {
        key -> Text,
        window_start -> Timestamptz,
        hits -> Int4,
    }
}

diesel::table! {
    transitions (id) {
        id -> Uuid,
        entity_type -> Text,
        entity_id -> Uuid,
        from_status -> Text,
        to_status -> Text,
        at -> Timestamptz,
        by_user -> Nullable<Uuid>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    programs (id) {
        id -> Uuid,
        code -> Text,
        title -> Text,
        theme -> Text,
        description -> Nullable<Text>,
        lead_institution_id -> Uuid,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    cohorts (id) {
        id -> Uuid,
        program_id -> Uuid,
        code -> Text,
        title -> Text,
        host_institution_id -> Uuid,
        delivery -> Text,
        country_code -> Nullable<Text>,
        city -> Nullable<Text>,
        languages -> Array<Text>,
        starts_on -> Date,
        ends_on -> Date,
        nominations_open_at -> Timestamptz,
        nominations_close_at -> Timestamptz,
        capacity -> Int4,
        max_per_institution -> Nullable<Int4>,
        min_attendance_pct -> Int4,
        auto_promote -> Bool,
        time_zone -> Text,
        status -> Text,
        coordinator_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        seats_taken -> Int4,
        waitlist_length -> Int4,
    }
}

diesel::table! {
    trainees (id) {
        id -> Uuid,
        institution_id -> Uuid,
        given_name -> Text,
        family_name -> Text,
        email -> Text,
        nationality -> Text,
        gender -> Text,
        birth_year -> Nullable<Int4>,
        field -> Nullable<Text>,
        locale -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Uuid,
        cohort_id -> Uuid,
        trainee_id -> Uuid,
        institution_id -> Uuid,
        status -> Text,
        motivation -> Nullable<Text>,
        nominated_by -> Uuid,
        decided_at -> Nullable<Timestamptz>,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        cohort_id -> Uuid,
        title -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    attendance (session_id, enrollment_id) {
        session_id -> Uuid,
        enrollment_id -> Uuid,
        status -> Text,
        marked_at -> Timestamptz,
        marked_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    certificates (id) {
        id -> Uuid,
        enrollment_id -> Uuid,
        code -> Text,
        issued_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revocation_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    incubators (id) {
        id -> Uuid,
        name -> Text,
        host_institution_id -> Uuid,
        country_code -> Text,
        city -> Nullable<Text>,
        themes -> Array<Text>,
        capacity -> Int4,
        services -> Array<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    ventures (id) {
        id -> Uuid,
        incubator_id -> Uuid,
        name -> Text,
        theme -> Text,
        country_code -> Text,
        founder_trainee_ids -> Array<Uuid>,
        description -> Nullable<Text>,
        status -> Text,
        admitted_on -> Nullable<Date>,
        graduated_on -> Nullable<Date>,
        jobs_created -> Int4,
        funding_raised_usd -> Numeric,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    milestones (id) {
        id -> Uuid,
        venture_id -> Uuid,
        title -> Text,
        due_on -> Date,
        achieved_on -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    service_requests (id) {
        id -> Uuid,
        venture_id -> Uuid,
        service -> Text,
        description -> Text,
        status -> Text,
        assignee_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    exchange_agreements (id) {
        id -> Uuid,
        institution_a_id -> Uuid,
        institution_b_id -> Uuid,
        title -> Text,
        valid_from -> Date,
        valid_to -> Date,
        kinds -> Array<Text>,
        annual_quota -> Int4,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    exchanges (id) {
        id -> Uuid,
        kind -> Text,
        trainee_id -> Uuid,
        sending_institution_id -> Uuid,
        receiving_institution_id -> Uuid,
        agreement_id -> Nullable<Uuid>,
        starts_on -> Date,
        ends_on -> Date,
        funding_usd -> Nullable<Numeric>,
        status -> Text,
        proposed_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    resources (id) {
        id -> Uuid,
        title -> Text,
        kind -> Text,
        description -> Nullable<Text>,
        url -> Text,
        languages -> Array<Text>,
        themes -> Array<Text>,
        licence -> Text,
        ip_terms -> Text,
        owner_institution_id -> Uuid,
        visibility -> Text,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    cohort_resources (cohort_id, resource_id) {
        cohort_id -> Uuid,
        resource_id -> Uuid,
        linked_at -> Timestamptz,
    }
}

diesel::table! {
    venture_resources (venture_id, resource_id) {
        venture_id -> Uuid,
        resource_id -> Uuid,
        linked_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Uuid,
        url -> Text,
        events -> Array<Text>,
        description -> Nullable<Text>,
        active -> Bool,
        institution_id -> Nullable<Uuid>,
        secret -> Text,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        failing_since -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Uuid,
        event_type -> Text,
        record_id -> Uuid,
        occurred_at -> Timestamptz,
        body -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        seq -> Int8,
        subscription_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        record_id -> Uuid,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Text>,
        error -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::joinable!(cohorts -> programs (program_id));
diesel::joinable!(enrollments -> cohorts (cohort_id));
diesel::joinable!(enrollments -> trainees (trainee_id));
diesel::joinable!(certificates -> enrollments (enrollment_id));
diesel::joinable!(sessions -> cohorts (cohort_id));
diesel::joinable!(enrollments -> institutions (institution_id));
diesel::joinable!(cohort_resources -> resources (resource_id));
diesel::joinable!(cohort_resources -> cohorts (cohort_id));
diesel::joinable!(venture_resources -> resources (resource_id));
diesel::joinable!(venture_resources -> ventures (venture_id));

diesel::allow_tables_to_appear_in_same_query!(
    deletions,
    institutions,
    users,
    audit_events,
    idempotency_keys,
    notifications,
    refresh_tokens,
    invitations,
    password_resets,
    login_attempts,
    rate_limits,
    transitions,
    programs,
    cohorts,
    trainees,
    enrollments,
    sessions,
    attendance,
    certificates,
    incubators,
    ventures,
    milestones,
    service_requests,
    exchange_agreements,
    exchanges,
    resources,
    cohort_resources,
    venture_resources,
    webhook_deliveries,
    webhook_events,
    webhook_subscriptions,
);
