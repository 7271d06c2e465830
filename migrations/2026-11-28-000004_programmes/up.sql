-- Every lifecycle move of every record: from, to, when, by whom, why.
CREATE TABLE transitions (
    id          uuid PRIMARY KEY,
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    by_user     uuid,
    note        text
);
CREATE INDEX transitions_entity_idx ON transitions (entity_type, entity_id, at);

CREATE TABLE programs (
    id                  uuid PRIMARY KEY,
    code                text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$'),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    theme               text NOT NULL CHECK (theme IN ('agriculture', 'energy', 'health', 'education',
                            'disaster_response', 'manufacturing', 'governance', 'general')),
    description         text,
    lead_institution_id uuid NOT NULL REFERENCES institutions (id),
    starts_on           date NOT NULL,
    ends_on             date NOT NULL,
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'closed', 'archived')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1,
    CONSTRAINT programs_dates CHECK (starts_on <= ends_on)
);
CREATE UNIQUE INDEX programs_code_key ON programs (lower(code));
CREATE INDEX programs_created_at_idx ON programs (created_at, id);
CREATE INDEX programs_updated_at_idx ON programs (updated_at, id);
CREATE INDEX programs_lead_idx ON programs (lead_institution_id);
CREATE TRIGGER programs_touch BEFORE UPDATE ON programs FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE cohorts (
    id                   uuid PRIMARY KEY,
    program_id           uuid NOT NULL REFERENCES programs (id),
    code                 text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$'),
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    host_institution_id  uuid NOT NULL REFERENCES institutions (id),
    delivery             text NOT NULL CHECK (delivery IN ('online', 'onsite', 'hybrid')),
    country_code         text CHECK (country_code ~ '^[A-Z]{2}$'),
    city                 text,
    languages            text[] NOT NULL DEFAULT '{}',
    starts_on            date NOT NULL,
    ends_on              date NOT NULL,
    nominations_open_at  timestamptz NOT NULL,
    nominations_close_at timestamptz NOT NULL,
    capacity             integer NOT NULL CHECK (capacity > 0),
    max_per_institution  integer CHECK (max_per_institution > 0),
    min_attendance_pct   integer NOT NULL DEFAULT 80 CHECK (min_attendance_pct BETWEEN 0 AND 100),
    auto_promote         boolean NOT NULL DEFAULT true,
    status               text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed',
                             'running', 'completed', 'cancelled')),
    coordinator_id       uuid REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1,
    CONSTRAINT cohorts_place CHECK (delivery = 'online' OR country_code IS NOT NULL),
    CONSTRAINT cohorts_dates CHECK (starts_on <= ends_on),
    CONSTRAINT cohorts_window CHECK (nominations_open_at < nominations_close_at)
);
CREATE UNIQUE INDEX cohorts_code_key ON cohorts (program_id, lower(code));
CREATE INDEX cohorts_created_at_idx ON cohorts (created_at, id);
CREATE INDEX cohorts_updated_at_idx ON cohorts (updated_at, id);
CREATE INDEX cohorts_starts_on_idx ON cohorts (starts_on, id);
CREATE INDEX cohorts_status_idx ON cohorts (status, starts_on);
CREATE TRIGGER cohorts_touch BEFORE UPDATE ON cohorts FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE trainees (
    id             uuid PRIMARY KEY,
    institution_id uuid NOT NULL REFERENCES institutions (id),
    given_name     text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name    text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    email          text NOT NULL CHECK (email = lower(email)),
    nationality    text NOT NULL CHECK (nationality ~ '^[A-Z]{2}$'),
    gender         text NOT NULL CHECK (gender IN ('female', 'male', 'non_binary', 'undisclosed')),
    birth_year     integer CHECK (birth_year BETWEEN 1900 AND 2100),
    field          text,
    locale         text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr', 'ar', 'es', 'pt', 'zh')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX trainees_email_key ON trainees (email);
CREATE INDEX trainees_institution_idx ON trainees (institution_id, created_at, id);
CREATE INDEX trainees_created_at_idx ON trainees (created_at, id);
CREATE INDEX trainees_updated_at_idx ON trainees (updated_at, id);
CREATE TRIGGER trainees_touch BEFORE UPDATE ON trainees FOR EACH ROW EXECUTE FUNCTION meridian_touch();

ALTER TABLE users ADD CONSTRAINT users_trainee_fk FOREIGN KEY (trainee_id) REFERENCES trainees (id);
ALTER TABLE invitations ADD CONSTRAINT invitations_trainee_fk FOREIGN KEY (trainee_id) REFERENCES trainees (id);

CREATE TABLE enrollments (
    id             uuid PRIMARY KEY,
    cohort_id      uuid NOT NULL REFERENCES cohorts (id),
    trainee_id     uuid NOT NULL REFERENCES trainees (id),
    -- The trainee's home institution when nominated: quotas and scopes use it.
    institution_id uuid NOT NULL REFERENCES institutions (id),
    status         text NOT NULL DEFAULT 'nominated' CHECK (status IN ('nominated', 'accepted',
                       'waitlisted', 'rejected', 'withdrawn', 'completed', 'not_completed')),
    motivation     text,
    nominated_by   uuid NOT NULL REFERENCES users (id),
    decided_at     timestamptz,
    note           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX enrollments_trainee_cohort_key ON enrollments (cohort_id, trainee_id);
CREATE INDEX enrollments_cohort_status_idx ON enrollments (cohort_id, status, institution_id);
CREATE INDEX enrollments_trainee_idx ON enrollments (trainee_id);
CREATE INDEX enrollments_institution_idx ON enrollments (institution_id, created_at, id);
CREATE INDEX enrollments_created_at_idx ON enrollments (created_at, id);
CREATE TRIGGER enrollments_touch BEFORE UPDATE ON enrollments FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    cohort_id  uuid NOT NULL REFERENCES cohorts (id),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1,
    CONSTRAINT sessions_times CHECK (starts_at < ends_at)
);
CREATE INDEX sessions_cohort_idx ON sessions (cohort_id, starts_at, id);
CREATE TRIGGER sessions_touch BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE attendance (
    session_id    uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    enrollment_id uuid NOT NULL REFERENCES enrollments (id),
    status        text NOT NULL CHECK (status IN ('present', 'absent', 'excused')),
    marked_at     timestamptz NOT NULL DEFAULT now(),
    marked_by     uuid REFERENCES users (id),
    PRIMARY KEY (session_id, enrollment_id)
);
CREATE INDEX attendance_enrollment_idx ON attendance (enrollment_id);

CREATE TABLE certificates (
    id                uuid PRIMARY KEY,
    enrollment_id     uuid NOT NULL REFERENCES enrollments (id),
    code              text NOT NULL,
    issued_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at        timestamptz,
    revocation_reason text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX certificates_enrollment_key ON certificates (enrollment_id);
CREATE UNIQUE INDEX certificates_code_key ON certificates (code);
CREATE TRIGGER certificates_touch BEFORE UPDATE ON certificates FOR EACH ROW EXECUTE FUNCTION meridian_touch();
