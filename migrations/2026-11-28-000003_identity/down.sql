DROP TABLE rate_limits;
DROP TABLE login_failures;
DROP TABLE password_resets;
DROP TABLE invitations;
DROP TABLE refresh_tokens;
