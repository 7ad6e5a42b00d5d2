def run(job_input):
    job_input.execute_query("INSERT INTO hello_world VALUES (1, 'hello from vdk-actions')")
