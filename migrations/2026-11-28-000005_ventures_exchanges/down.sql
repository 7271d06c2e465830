DROP TABLE exchanges;
DROP TABLE exchange_agreements;
DROP TABLE service_requests;
DROP TABLE milestones;
DROP TABLE ventures;
DROP TABLE incubators;
