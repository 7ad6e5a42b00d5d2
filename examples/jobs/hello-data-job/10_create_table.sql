CREATE TABLE IF NOT EXISTS hello_world (id INT, greeting VARCHAR);
