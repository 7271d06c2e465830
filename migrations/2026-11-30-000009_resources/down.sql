DROP TABLE venture_resources;
DROP TABLE cohort_resources;
DROP TABLE resources;
