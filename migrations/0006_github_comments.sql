CREATE TABLE `github_comments` (
	`project_id` text NOT NULL,
	`repo` text NOT NULL,
	`pr_number` integer NOT NULL,
	`comment_id` integer,
	`reported_run_id` text,
	`claimed_by` text,
	`claimed_at` text,
	PRIMARY KEY(`project_id`, `repo`, `pr_number`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
